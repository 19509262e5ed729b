import type { RejectedRecipient } from '../../../../core/recipients.ts';

/** Rows shown of a list's refused ones; the count says how many more there are. */
export const REJECTED_ROWS_SHOWN = 500;

/**
 * The rows of a recipient list that are not sent: the row's number in the file (data rows,
 * the header not counted), the address as it was, and why.
 */
export function RejectedRows(props: { rows: RejectedRecipient[]; total: number }) {
  const shown = props.rows.slice(0, REJECTED_ROWS_SHOWN);
  return (
    <>
      <table data-testid="rejected-rows">
        <thead>
          <tr>
            <th scope="col" class="num">
              Row
            </th>
            <th scope="col">Address as given</th>
            <th scope="col">Why it is not sent</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((r) => (
            <tr>
              <td class="num">{r.row}</td>
              <td>{r.email}</td>
              <td>{r.reason}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {props.total > shown.length ? (
        <p class="muted">{`… and ${props.total - shown.length} more rows not shown here.`}</p>
      ) : null}
    </>
  );
}
