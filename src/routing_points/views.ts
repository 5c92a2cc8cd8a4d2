/** What cp_list / tp_list show: the configuration as written (rules as text) and each TP's state. */
import type { RoutingPoints } from './points.ts';

export function cpViews(p: RoutingPoints): object[] {
  return p.connectionPoints.map((cp) => ({
    id: cp.id,
    user_id: cp.user_id,
    match: {
      ...(cp.match.ip === undefined ? {} : { ip: cp.match.ip.spec }),
      ...(cp.match.port === undefined ? {} : { port: cp.match.port }),
      ...(cp.match.transport === undefined ? {} : { transport: cp.match.transport }),
      ...(cp.match.username === undefined ? {} : { username: cp.match.username }),
    },
    external_script:
      cp.external_script === undefined
        ? null
        : cp.external_script.kind === 'http'
          ? cp.external_script.url
          : cp.external_script.path,
    external_script_mode: cp.external_script_mode,
    localization: { src: cp.localization.src.text, dst: cp.localization.dst.text },
    termination_points: cp.termination_points.map((c) => ({
      id: c.id,
      ...(c.prefix === undefined ? {} : { prefix: c.prefix }),
      ...(c.regexp === undefined ? {} : { regexp: c.regexp.source }),
    })),
  }));
}

export function tpViews(p: RoutingPoints, activeCalls?: (id: number) => number): object[] {
  return [...p.terminationPoints.values()].map((t) => ({
    id: t.config.id,
    uri: t.config.uri,
    active: t.config.active,
    alive: t.alive,
    transformation: { src: t.config.transformation.src.text, dst: t.config.transformation.dst.text },
    capacity: t.config.capacity,
    ...(activeCalls === undefined ? {} : { calls: activeCalls(t.config.id) }),
    options_interval_ms: t.config.options_interval_ms,
    last_check_status: t.lastStatus,
    no_answer_timeout_ms: t.config.no_answer_timeout_ms,
  }));
}
