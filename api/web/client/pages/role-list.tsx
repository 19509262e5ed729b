import { type Role, roleCatalogue } from '../../../../core/roles.ts';

/**
 * Roles in plain words, one per line: the label and what it lets the partner do. `note`
 * adds a word after a role (e.g. "required").
 */
export function RoleList(props: { roles: readonly Role[]; note?: (role: Role) => string | undefined }) {
  if (props.roles.length === 0) return <p>No roles.</p>;
  return (
    <ul class="roles">
      {props.roles.map((role) => {
        const note = props.note?.(role);
        return (
          <li data-role={role}>
            <strong>{roleCatalogue[role].label}</strong>
            {note ? <em> ({note})</em> : null}: {roleCatalogue[role].description}
          </li>
        );
      })}
    </ul>
  );
}
