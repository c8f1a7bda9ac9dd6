// The only place that reads process.env (see DESIGN.md "Rules of the house").
// Everything else receives these values as arguments.

export interface RuntimeEnv {
  /** true when NODE_ENV=production: strict checks, no dev helpers. */
  production: boolean;
  /** REDIS_URL, which overrides the config file's redis section when set. */
  redisUrl: string | undefined;
  /** BROKER_CONFIG, the config file when --config is not given. */
  configFile: string | undefined;
  /** LOG_LEVEL, default info. */
  logLevel: string;
  /** The whole environment, for ${VAR} interpolation in the config file. */
  vars: Readonly<Record<string, string | undefined>>;
}

export function readEnv(env: NodeJS.ProcessEnv = process.env): RuntimeEnv {
  return {
    production: env.NODE_ENV === 'production',
    redisUrl: env.REDIS_URL || undefined,
    configFile: env.BROKER_CONFIG || undefined,
    logLevel: env.LOG_LEVEL || 'info',
    vars: env,
  };
}
