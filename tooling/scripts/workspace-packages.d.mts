/** The repository root folder (with a trailing slash). */
export const root: string
/** The workspace's packages: name → folder. */
export function workspacePackages(): Map<string, string>
