import { parseArgs } from 'node:util';
import { z } from 'zod';
import { normalizeEmail } from '../core/recipients.ts';
import { plainText } from '../core/text.ts';
import type { CreatedPartner, CreatePartnerInput } from '../services/accounts/partners.ts';

export const partnerCreateUsage = `Usage: mandate partner create --name <name> --owner-email <email> [--owner-name <name>]
                               [--without-two-factor-policy] [--json]

Creates a partner organization and its owner (full staff access), and prints the
owner's password and API token once. With --json: one line of JSON on stdout.
The partner requires two-factor sign-in of its staff: the owner signs in on the
dashboard and sets it up, and the token works after that. An owner can turn the
policy off later; --without-two-factor-policy creates the partner with it off.`;

const argsSchema = z.object({
  name: plainText(200),
  ownerEmail: z.string().transform((value, ctx) => {
    const result = normalizeEmail(value);
    if ('reason' in result) {
      ctx.addIssue({ code: 'custom', message: result.reason });
      return z.NEVER;
    }
    return result.email;
  }),
  ownerName: plainText(200).optional(),
});

/** Parses `partner create` options; throws an Error whose message is for the terminal. */
export function parsePartnerCreateArgs(argv: string[]): CreatePartnerInput & { json: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      name: { type: 'string' },
      'owner-email': { type: 'string' },
      'owner-name': { type: 'string' },
      json: { type: 'boolean', default: false },
      'without-two-factor-policy': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const parsed = argsSchema.safeParse({
    name: values.name,
    ownerEmail: values['owner-email'],
    ownerName: values['owner-name'],
  });
  if (!parsed.success) {
    const flag = (path: PropertyKey | undefined) =>
      ({ name: '--name', ownerEmail: '--owner-email', ownerName: '--owner-name' })[String(path)] ?? String(path);
    const problems = parsed.error.issues.map((i) => `  ${flag(i.path[0])}: ${i.message}`);
    throw new Error(`${problems.join('\n')}\n\n${partnerCreateUsage}`);
  }
  return { ...parsed.data, requireTwoFactor: !values['without-two-factor-policy'], json: values.json ?? false };
}

/** What `partner create` prints on stdout. */
export function formatCreatedPartner(
  created: CreatedPartner,
  { json, publicUrl }: { json: boolean; publicUrl: string },
): string {
  if (json) {
    const { partnerId, userId, email, password, token, requireTwoFactor } = created;
    return JSON.stringify({ partnerId, userId, email, password, token, requireTwoFactor });
  }
  const policy = created.requireTwoFactor
    ? [
        `Two-factor sign-in is required of this partner’s staff: sign in at ${publicUrl}/sign-in`,
        'with this password and set it up; the token works once that is done.',
      ]
    : [];
  return [
    `Partner created: ${created.partnerId}`,
    `Owner:           ${created.email} (${created.userId})`,
    `Password:        ${created.password}`,
    `API token:       ${created.token}`,
    '',
    'The password and token are shown only now: store them in a password manager.',
    ...policy,
    `Try it: curl -H "Authorization: Bearer ${created.token}" ${publicUrl}/v1/offers`,
  ].join('\n');
}
