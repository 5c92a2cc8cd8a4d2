/**
 * The M4 external script service: runs a hook (HTTP, local spawn, or persistent local program),
 * bounded by `external_script_timeout_ms`, logs what M4 logs, counts per connection point, and
 * turns the outcome into a decision: continue with (possibly new) src/dst, or reject with a
 * hangup cause mapped to a SIP status.
 */
import type { Config, ExternalScript } from '../../config/types.ts';
import { ProcessRunner } from '../../process/run.ts';
import { applyReply, encodeRequest, type HookRequest, reasonPhrase } from './contract.ts';
import { HttpHook } from './http_hook.ts';
import type { HookOutcome } from './outcome.ts';
import { PersistentHook } from './persistent_hook.ts';
import { spawnHook } from './spawn_hook.ts';
import { count, recordLatency } from './stats.ts';

/** M4 hangup causes of the hook. */
export const HGC_REJECTED = 384;
export const HGC_TIMEOUT = 384;
export const HGC_FAILURE = 386;
/** M2/M4 map every hangup cause to 503 unless told otherwise. */
export const DEFAULT_HGC_STATUS = 503;

export interface HookSettings {
  readonly timeoutMs: number;
  readonly rejectOnTimeout: boolean;
  readonly rejectOnFailure: boolean;
  readonly hangupCauses: Readonly<Record<number, number>>;
  /** A new destination also becomes the To user. */
  readonly updateTo: boolean;
}

export function settingsOf(config: Config): HookSettings {
  return {
    timeoutMs: config.external_script_timeout_ms,
    rejectOnTimeout: config.external_script_reject_on_timeout === 1,
    rejectOnFailure: config.external_script_reject_on_failure === 1,
    hangupCauses: config.hangup_causes,
    updateTo: config.external_script_update_to,
  };
}

export interface HookLog {
  info(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  isLevelEnabled?(level: string): boolean;
}

/** `outcome` of the hook, as the `hook` dialog variable / CDR column records it. */
export type HookResult = 'none' | 'ok' | 'rejected' | 'timeout' | 'failure';

export type HookDecision =
  | {
      readonly action: 'continue';
      readonly src: string;
      readonly dst: string;
      readonly result: HookResult;
      readonly outcome: HookOutcome;
    }
  | {
      readonly action: 'reject';
      readonly hgc: number;
      readonly status: number;
      readonly reason: string;
      readonly result: HookResult;
      readonly outcome: HookOutcome;
    };

export type HookMode = 'spawn' | 'persistent';

export class ExtScriptService {
  settings: HookSettings;
  readonly log: HookLog;
  readonly http = new HttpHook();
  readonly runner: ProcessRunner;
  readonly #persistent = new Map<string, PersistentHook>();

  constructor(settings: HookSettings, log: HookLog) {
    this.settings = settings;
    this.log = log;
    this.runner = new ProcessRunner({
      onStderr: (line, argv0) => log.warn({ script: argv0, stderr: line }, `External script stderr: ${line}`),
    });
  }

  get updateTo(): boolean {
    return this.settings.updateTo;
  }

  statusFor(hgc: number): number {
    return this.settings.hangupCauses[hgc] ?? DEFAULT_HGC_STATUS;
  }

  /** Run the hook once; never rejects, never takes longer than the timeout. */
  call(script: ExternalScript, mode: HookMode, req: HookRequest): Promise<HookOutcome> {
    const line = encodeRequest(req);
    const t = this.settings.timeoutMs;
    if (script.kind === 'http') return this.http.call(script.url, line, t);
    if (mode === 'persistent') return this.persistentFor(script.path).call(line, t);
    return spawnHook(this.runner, script.path, line, t);
  }

  private persistentFor(path: string): PersistentHook {
    let p = this.#persistent.get(path);
    if (p === undefined) {
      p = new PersistentHook(path, this.runner, this.log);
      this.#persistent.set(path, p);
    }
    return p;
  }

  /** Run the hook for a call, log as M4 does, count, and decide. */
  async execute(script: ExternalScript, mode: HookMode, req: HookRequest): Promise<HookDecision> {
    const target = script.kind === 'http' ? script.url : script.path;
    const log = this.log;
    const cp = req.cp_id;
    // The M4 lines are built only when they will be written (one call = several lines).
    const info = log.isLevelEnabled?.('info') ?? true;
    const debug = log.isLevelEnabled?.('debug') ?? true;
    if (info) log.info({ cp_id: cp, script: target }, `Executing external script: ${target}`);
    count(cp, 'calls');
    const outcome = await this.call(script, mode, req);
    recordLatency(cp, outcome.durationMs);
    const secs = info || outcome.kind !== 'ok' ? (outcome.durationMs / 1000).toFixed(6) : '';
    if (outcome.kind === 'timeout') {
      count(cp, 'timeouts');
      log.warn(
        { cp_id: cp, script: target, timeout_ms: this.settings.timeoutMs },
        `External script timeout after ${secs} seconds`,
      );
      if (this.settings.rejectOnTimeout) {
        count(cp, 'rejects');
        return this.reject(HGC_TIMEOUT, 'External script timeout', 'timeout', outcome);
      }
      return { action: 'continue', src: req.src, dst: req.dst, result: 'timeout', outcome };
    }
    if (outcome.kind === 'failure') {
      count(cp, 'failures');
      log.warn(
        { cp_id: cp, script: target, error: outcome.error },
        `External script failed: ${outcome.error}`,
      );
      if (this.settings.rejectOnFailure) {
        count(cp, 'rejects');
        return this.reject(HGC_FAILURE, 'External script failure', 'failure', outcome);
      }
      return { action: 'continue', src: req.src, dst: req.dst, result: 'failure', outcome };
    }
    count(cp, 'ok');
    const r = outcome.reply;
    const kind = script.kind === 'http' ? 'HTTP' : 'local';
    if (debug) {
      log.debug({ cp_id: cp }, `External script: received output from ${kind} script: ${outcome.raw.trim()}`);
    }
    if (info) log.info({ cp_id: cp, seconds: Number(secs) }, `External script executed in ${secs} seconds`);
    if (debug) {
      if (r.status_code !== undefined) log.debug({ cp_id: cp }, `Status code: ${r.status_code}`);
      if (r.message !== undefined) log.debug({ cp_id: cp }, `Message: ${r.message}`);
      if (r.new_src !== undefined) log.debug({ cp_id: cp }, `New src: ${r.new_src}`);
      if (r.new_dst !== undefined) log.debug({ cp_id: cp }, `New dst: ${r.new_dst}`);
    }
    for (const f of outcome.ignored) {
      log.warn({ cp_id: cp, field: f }, `External script: ignoring ${f}: not a plausible number`);
    }
    if (r.reject_call === true) {
      count(cp, 'rejects');
      log.info({ cp_id: cp }, `External script: rejecting call (HGC ${HGC_REJECTED})`);
      return this.reject(HGC_REJECTED, reasonPhrase(r.message, 'Rejected'), 'rejected', outcome);
    }
    const next = applyReply(r, req.src, req.dst);
    if (info && next.src !== req.src) {
      log.info({ cp_id: cp }, `External script: changing src from [${req.src}] to [${next.src}]`);
    }
    if (info && next.dst !== req.dst) {
      log.info({ cp_id: cp }, `External script: changing dst from [${req.dst}] to [${next.dst}]`);
    }
    return { action: 'continue', src: next.src, dst: next.dst, result: 'ok', outcome };
  }

  private reject(hgc: number, reason: string, result: HookResult, outcome: HookOutcome): HookDecision {
    return { action: 'reject', hgc, status: this.statusFor(hgc), reason, result, outcome };
  }

  async close(): Promise<void> {
    for (const p of this.#persistent.values()) p.stop();
    this.#persistent.clear();
    await this.http.close();
  }
}

let current: ExtScriptService | undefined;

/** The running server's service (set by wire.ts); undefined outside a server. */
export function extScriptService(): ExtScriptService | undefined {
  return current;
}

export function setExtScriptService(s: ExtScriptService | undefined): void {
  current = s;
}
