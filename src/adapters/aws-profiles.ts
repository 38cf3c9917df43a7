/**
 * The named profiles of the shared AWS config and credentials files, read the
 * way the AWS CLI and SDKs find them (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE,
 * default ~/.aws/config and ~/.aws/credentials), so `elevate status --profile X`
 * can say "no such profile" plainly before any credential lookup or network call.
 * https://docs.aws.amazon.com/sdkref/latest/guide/file-format.html
 */
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";

/**
 * Profile names in one file's text. In the config file a profile section is
 * `[profile NAME]` (or `[default]`); in the credentials file it is `[NAME]`.
 * Other config sections (`[sso-session …]`, `[services …]`) are not profiles.
 */
export function profileNamesInIni(text: string, file: "config" | "credentials"): string[] {
  const names: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const section = /^\s*\[\s*([^\]]*?)\s*\]\s*(?:[#;].*)?$/.exec(line)?.[1];
    if (section === undefined) continue;
    if (file === "credentials") {
      names.push(section);
    } else if (section === "default") {
      names.push("default");
    } else {
      const profile = /^profile\s+(.+)$/.exec(section)?.[1];
      if (profile !== undefined) names.push(profile.trim());
    }
  }
  return names;
}

export interface SharedFiles {
  configFile: string;
  credentialsFile: string;
}

export function sharedFilePaths(env: NodeJS.ProcessEnv = process.env): SharedFiles {
  const home = env.HOME || env.USERPROFILE || homedir();
  return {
    configFile: env.AWS_CONFIG_FILE || join(home, ".aws", "config"),
    credentialsFile: env.AWS_SHARED_CREDENTIALS_FILE || join(home, ".aws", "credentials"),
  };
}

/** Every profile either file defines (a missing file defines none). */
export async function knownProfiles(files: SharedFiles): Promise<Set<string>> {
  const read = (path: string) => readFile(path, "utf8").catch(() => "");
  const [config, credentials] = await Promise.all([read(files.configFile), read(files.credentialsFile)]);
  return new Set([...profileNamesInIni(config, "config"), ...profileNamesInIni(credentials, "credentials")]);
}
