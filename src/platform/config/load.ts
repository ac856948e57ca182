import { type Config, flagName, SETTINGS, type SettingDef, type SettingKey } from "./settings.ts";

export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(
    message: string,
    readonly setting?: string,
  ) {
    super(message);
  }
}

/**
 * Resolve every setting: command-line flag > environment variable > default, then validate with zod.
 * Errors name the setting (flag and variable) and the problem, never a secret's value.
 */
export function loadConfig(argv: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, def] of Object.entries(SETTINGS) as [SettingKey, SettingDef][]) {
    let raw: unknown = argv[key];
    if (raw === undefined || raw === null) raw = argv[flagName(key)];
    // A boolean flag without a value (`--auto-setup`) is on; with one (`--auto-setup=yes`), the value decides.
    if (def.boolean && raw === "") raw = true;
    if (raw === undefined || raw === null) {
      const e = env[def.env];
      raw = e === undefined || e === "" ? def.default : e;
    }
    if (raw === undefined) continue;
    // A flag given twice arrives as an array: lists take them all, other settings the last one.
    if (Array.isArray(raw) && !def.list) raw = raw.at(-1);
    const parsed = def.schema.safeParse(raw);
    if (!parsed.success) {
      const why = parsed.error.issues.map((i) => i.message).join("; ");
      problems.push(`--${flagName(key)} / ${def.env}: ${why}`);
    } else out[key] = parsed.data;
  }
  if (out["s3Endpoint"] && out["s3ForcePathStyle"] === undefined) out["s3ForcePathStyle"] = true;
  if (problems.length > 0) {
    throw new ConfigError(`Invalid setting${problems.length > 1 ? "s" : ""}:\n  ${problems.join("\n  ")}`);
  }
  return out as Config;
}

/** A setting the current command cannot do without. */
export function requireSetting<K extends SettingKey>(config: Config, key: K): NonNullable<Config[K]> {
  const v = config[key];
  if (v === undefined || v === null || v === "") {
    const def: SettingDef = SETTINGS[key];
    throw new ConfigError(`Missing setting --${flagName(key)} / ${def.env}: ${def.describe}`, key);
  }
  return v as NonNullable<Config[K]>;
}

/**
 * yargs option definitions for the given settings, so flags show in --help. All strings, booleans too:
 * yargs' own booleans read `--auto-setup=yes` or `=1` as false (and a flag beats the environment), so the
 * text goes to the setting's schema like the environment's; `--flag` alone is on, `--no-flag` off.
 */
export function settingOptions(
  keys: readonly SettingKey[],
): Record<string, { describe: string; type: "string"; group: string }> {
  const opts: Record<string, { describe: string; type: "string"; group: string }> = {};
  for (const key of keys) {
    const def: SettingDef = SETTINGS[key];
    const dflt = def.default === undefined || def.default === "" ? "" : ` [default: ${String(def.default)}]`;
    opts[flagName(key)] = {
      describe: `${def.describe}${def.boolean ? " (true/false, yes/no, 1/0, on/off)" : ""} (env ${def.env})${def.secret ? "" : dflt}`,
      type: "string",
      group: "Settings:",
    };
  }
  return opts;
}
