/**
 * Management API payloads (agents, departments, groups; used by the console). Every id of a
 * department or group is a lowercase slug; permission ids come from the catalogue.
 */
import { z } from "zod";
import { isPermission, type Permission } from "../security/permissions.ts";
import { maskedText } from "./masked-text.ts";

const slug = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, "a lowercase slug");
const label = maskedText(
  z
    .string()
    .trim()
    .min(1)
    .max(100)
    .regex(/^[^\p{Cc}]*$/u, "no control characters"),
);
const permission = z
  .string()
  .refine(isPermission, "a permission id of the catalogue")
  .transform((id) => id as Permission);
const permissions = z.array(permission).max(100);
const slugs = z.array(slug).max(100);

/** `POST /api/agents`: the new agent chooses a password through a one-time link. */
export const createAgentRequest = z
  .object({
    email: maskedText(z.string().trim().max(254).email()),
    name: label,
    departments: slugs.optional(),
    groups: slugs.optional(),
    permissions: permissions.optional(),
  })
  .strict();

/** `PUT /api/agents/:id/departments`. */
export const setDepartmentsRequest = z.object({ departments: slugs }).strict();
/** `PUT /api/agents/:id/groups`. */
export const setGroupsRequest = z.object({ groups: slugs }).strict();
/** `PUT /api/{agents,departments,groups}/:id/grants`. */
export const setGrantsRequest = z.object({ permissions }).strict();

/** `POST /api/departments`. */
export const createDepartmentRequest = z
  .object({ id: slug, name: label, mfaRequired: z.boolean().optional() })
  .strict();
/** `PATCH /api/departments/:id`. */
export const updateDepartmentRequest = z
  .object({ name: label.optional(), mfaRequired: z.boolean().optional() })
  .strict();
/** `POST /api/groups`. */
export const createGroupRequest = z.object({ id: slug, name: label }).strict();
/** `PATCH /api/groups/:id`. */
export const updateGroupRequest = z.object({ name: label }).strict();

/** An agent as the management API lists it (never a password hash or MFA secret). */
export interface ManagedAgent {
  id: string;
  email: string;
  name: string;
  departments: string[];
  groups: string[];
  /** Granted to the agent directly. */
  grants: Permission[];
  /** Effective: own, departments' and groups' grants. */
  permissions: Permission[];
  disabledAt: number | null;
  lastLoginAt: number | null;
  mfaEnabled: boolean;
  /** Set while the account is locked after too many failed logins. */
  lockedUntil: number | null;
}

/** `POST /api/agents` (201) and `POST /api/agents/:id/password-link` (200). */
export interface PasswordLinkResponse {
  agent: ManagedAgent;
  /** Shown once: the one-time link the agent opens to choose a password. */
  link: string;
  expiresAt: number;
}

/** A department or group with its grants. */
export interface ManagedSubject {
  id: string;
  name: string;
  grants: Permission[];
  members: number;
  /** Departments only. */
  mfaRequired?: boolean;
}
