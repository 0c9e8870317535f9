/**
 * IAM as AWS evaluates it, offline: the policies a mocked deploy renders (role inline policies, the
 * token consumer's managed policy, key policies, trust policies), evaluated with
 * @cloud-copilot/iam-simulate (AGPL-3.0, a devDependency used only here; never bundled).
 *
 * `decide` first runs the validating simulation, which checks the action, the resource ARN's type and
 * that every context key is one AWS sends for that action, and fails on any error. Version 0.1.173
 * drops `kms:EncryptionContext:<key>` keys while validating (it matches variable keys only at a "/",
 * as in aws:RequestTag/<key>), so the decision comes from its unvalidated entry point, given the same
 * request; the only keys that may be dropped in validation are those.
 */
import {
  runSimulation,
  runUnsafeSimulation,
  type Simulation,
  type SimulationIdentityPolicy,
} from "@cloud-copilot/iam-simulate";
import { expect } from "vitest";
import type { IamRequest } from "./aws-calls.ts";
import { ACCOUNT, type Deployment, type Recorded } from "./harness.ts";

export type Decision = "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied";
type PolicyDocument = { Version: string; Statement: Record<string, unknown>[] };

export interface Role {
  name: string;
  arn: string;
  /** The ARN a session of the role signs requests as. */
  session: string;
  identity: SimulationIdentityPolicy[];
  trust: PolicyDocument;
}

function find(deployment: Deployment, type: string, name: string): Recorded {
  const found = deployment.resources.find((r) => r.type === type && r.name === name);
  if (!found) throw new Error(`no ${type} named ${name}`);
  return found;
}

/** The function roles and the token consumer role, with the policies the deploy attaches to them. */
export function rolesOf(deployment: Deployment): Record<string, Role> {
  const roles: Record<string, Role> = {};
  for (const resource of deployment.resources.filter((r) => r.type === "aws:iam/role:Role")) {
    const name = resource.name.replace(/Role$/, "");
    const inline = (resource.inputs.inlinePolicies as { name: string; policy: string }[] | undefined) ?? [];
    const identity = inline.map((p) => ({ name: `${name}-${p.name}`, policy: JSON.parse(p.policy) }));
    if (name === "TokenConsumer") {
      const policy = find(deployment, "aws:iam/policy:Policy", "TokenConsumerPolicy");
      identity.push({ name: "TokenConsumerPolicy", policy: JSON.parse(String(policy.inputs.policy)) });
    }
    const arn = String(resource.state.arn);
    const trust = resource.inputs.assumeRolePolicy;
    roles[name] = {
      name,
      arn,
      session: `arn:aws:sts::${ACCOUNT}:assumed-role/${String(resource.state.name)}/session`,
      identity,
      trust: typeof trust === "string" ? JSON.parse(trust) : (trust as PolicyDocument),
    };
  }
  return roles;
}

/** Key ARN -> its key policy. */
export function keyPoliciesOf(deployment: Deployment): Record<string, PolicyDocument> {
  const policies: Record<string, PolicyDocument> = {};
  for (const name of ["StateKey", "DataKey"]) {
    const arn = String(find(deployment, "aws:kms/key:Key", `${name}Kms`).state.arn);
    policies[arn] = JSON.parse(
      String(find(deployment, "aws:kms/keyPolicy:KeyPolicy", `${name}Policy`).inputs.policy),
    );
  }
  return policies;
}

/**
 * Keys the validating run may drop; any other dropped key is an error in the request. Besides the
 * encryption context keys (see above), `lambda:SourceFunctionArn`: Lambda adds it to requests made
 * with a function's credentials from inside the function, for any service, but iam-data lists it
 * under Lambda's own actions only.
 */
const UNVALIDATED_KEYS = /^(kms:EncryptionContext:|lambda:SourceFunctionArn$)/;

/**
 * `aws:PrincipalArn`, which AWS adds to every signed request (IAM User Guide, "AWS global condition
 * context keys"): a role session's is its role's ARN, a user's its own; none for a service principal.
 * The simulator does not derive it, and the key policies name each role by it (stacks/keys.ts).
 */
function principalArnOf(principal: string): string | undefined {
  const session = principal.match(/^arn:aws:sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/);
  if (session) return `arn:aws:iam::${session[1]}:role/${session[2]}`;
  return principal.startsWith("arn:") ? principal : undefined;
}

/** How AWS decides `principal`'s request, given its identity policies and the resource's policy. */
export async function decide(
  principal: string,
  identity: SimulationIdentityPolicy[],
  request: IamRequest,
  resourcePolicy?: PolicyDocument,
): Promise<Decision> {
  const principalArn = principalArnOf(principal);
  const simulation: Simulation = {
    request: {
      principal,
      action: request.action,
      resource: { resource: request.resource, accountId: ACCOUNT },
      contextVariables: { ...request.context, ...(principalArn ? { "aws:PrincipalArn": principalArn } : {}) },
    },
    identityPolicies: identity,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy,
  };
  const validated = await runSimulation(simulation, {});
  if (validated.resultType === "error") {
    throw new Error(`invalid simulation of ${request.action}: ${JSON.stringify(validated.errors)}`);
  }
  if (validated.resultType === "single") {
    const dropped = validated.result.ignoredContextKeys ?? [];
    expect(
      dropped.filter((key) => !UNVALIDATED_KEYS.test(key)),
      `${request.action} context`,
    ).toEqual([]);
  }
  const result = runUnsafeSimulation(
    {
      ...simulation,
      // A policy with a name (the unvalidated entry point names only identity policies).
      resourcePolicy: resourcePolicy && {
        __validated: true,
        policyDocument: resourcePolicy,
        metadata: { name: "ResourcePolicy" },
        errors: [],
      },
    },
    {},
  ) as unknown as Decision;
  return result;
}

/** A request of `role`'s session, with the key's policy when the resource is a key. */
export function decideAs(role: Role, request: IamRequest, keyPolicies: Record<string, PolicyDocument>) {
  return decide(role.session, role.identity, request, keyPolicies[request.resource]);
}

/** sts:AssumeRole of `role` by `principal` (a service or an ARN with its own identity policies). */
export function assume(
  role: Role,
  principal: string,
  context: Record<string, string> = {},
  identity: SimulationIdentityPolicy[] = [],
) {
  return decide(principal, identity, { action: "sts:AssumeRole", resource: role.arn, context }, role.trust);
}

/** An identity policy that allows everything: the account's administrators, or a careless grant. */
export const ALLOW_EVERYTHING: SimulationIdentityPolicy[] = [
  {
    name: "AdministratorAccess",
    policy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] },
  },
];
