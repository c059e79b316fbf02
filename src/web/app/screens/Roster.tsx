import { useMemo, useState } from 'preact/hooks';
import type { LinealClient } from '../../../../clients/typescript/index.js';
import { type Schemas, unwrap } from '../api.js';
import {
  childName,
  ErrorNotice,
  Loading,
  Notice,
  OfflineNotice,
  RoundProgress,
  ZoneBadge,
} from '../components.js';
import { useApp } from '../context.js';
import type { MessageKey } from '../messages.js';
import { href } from '../router.js';
import { useLoad } from '../use-load.js';
import { useOutbox } from '../use-outbox.js';
import { rosterKey } from './Home.js';

type RosterChild = Schemas['RoundRoster']['children'][number];
export interface RosterData {
  round: Schemas['Round'];
  unit: Schemas['Unit'];
  roster: Schemas['RoundRoster'];
}

export async function fetchRoster(
  api: LinealClient,
  roundId: string,
  unitId: string,
): Promise<RosterData> {
  const [round, unit, roster] = await Promise.all([
    api.GET('/v1/rounds/{roundId}', { params: { path: { roundId } } }).then(unwrap),
    api.GET('/v1/units/{unitId}', { params: { path: { unitId } } }).then(unwrap),
    api
      .GET('/v1/rounds/{roundId}/units/{unitId}/children', {
        params: { path: { roundId, unitId } },
      })
      .then(unwrap),
  ]);
  return { round, unit, roster };
}

export function useRoster(roundId: string, unitId: string) {
  const { api, revision } = useApp();
  return useLoad(rosterKey(roundId, unitId), () => fetchRoster(api, roundId, unitId), [
    roundId,
    unitId,
    revision,
  ]);
}

type Sort = 'name' | 'status' | 'zone' | 'birth';
type Filter = 'all' | 'missing' | 'attention';

const zoneRank = { red: 0, yellow: 1, green: 2 } as const;
const statusRank = { missing: 0, corrected: 1, assessed: 2 } as const;

function compare(sort: Sort) {
  return (a: RosterChild, b: RosterChild): number => {
    const byName = childName(a).localeCompare(childName(b), 'da');
    switch (sort) {
      case 'status':
        return statusRank[a.status] - statusRank[b.status] || byName;
      case 'zone': {
        const za = a.assessment?.zone ? zoneRank[a.assessment.zone] : 3;
        const zb = b.assessment?.zone ? zoneRank[b.assessment.zone] : 3;
        return za - zb || byName;
      }
      case 'birth':
        return a.birthDate.localeCompare(b.birthDate) || byName;
      default:
        return byName;
    }
  };
}

/** The first child after `childId` (in name order, wrapping) without an assessment or a queued one. */
export function nextMissing(
  children: readonly RosterChild[],
  childId: string | undefined,
  queued: ReadonlySet<string>,
): RosterChild | undefined {
  const sorted = [...children].sort(compare('name'));
  const start = childId ? sorted.findIndex((c) => c.childId === childId) + 1 : 0;
  for (let i = 0; i < sorted.length; i++) {
    const c = sorted[(start + i) % sorted.length] as RosterChild;
    if (c.status === 'missing' && !queued.has(c.childId) && c.childId !== childId) return c;
  }
  return undefined;
}

export function Roster({ roundId, unitId }: { roundId: string; unitId: string }) {
  const { i18n, me } = useApp();
  const t = i18n.t;
  const state = useRoster(roundId, unitId);
  const outbox = useOutbox();
  const [query, setQuery] = useState('');
  const [sort, setSort] = useState<Sort>('name');
  const [filter, setFilter] = useState<Filter>('all');

  const queued = useMemo(() => {
    const map = new Map<string, 'waiting' | 'conflict' | 'rejected'>();
    for (const item of outbox) if (item.kind === 'assessment') map.set(item.childId, item.state);
    return map;
  }, [outbox]);

  if (state.status === 'loading') return <Loading />;
  if (state.status === 'error') return <ErrorNotice error={state.error} />;
  const { round, unit, roster } = state.data;
  const needle = query.trim().toLocaleLowerCase('da');
  const shown = roster.children
    .filter((c) => {
      if (filter === 'missing' && c.status !== 'missing') return false;
      if (filter === 'attention' && c.openFlags === 0 && c.overdueSteps === 0) return false;
      if (!needle) return true;
      return `${childName(c)} ${c.externalRef}`.toLocaleLowerCase('da').includes(needle);
    })
    .sort(compare(sort));
  const isLeader = ['unit_leader', 'municipality_admin'].includes(me.principal.role);
  const overdue = roster.children.reduce((n, c) => n + c.overdueSteps, 0);
  const flags = roster.children.reduce((n, c) => n + c.openFlags, 0);
  const zones = { red: 0, yellow: 0, green: 0, none: 0 };
  for (const c of roster.children) {
    if (c.assessment) zones[c.assessment.zone ?? 'none'] += 1;
  }
  const open = round.status === 'open';
  const next = open ? nextMissing(roster.children, undefined, new Set(queued.keys())) : undefined;

  return (
    <main id="main">
      <h1>{t('roster.title', { round: round.name, unit: unit.name })}</h1>
      {state.offline ? <OfflineNotice storedAt={state.storedAt} /> : null}
      {open ? null : (
        <Notice kind="info">{t('roster.closed', { to: i18n.date(round.windowEnd) })}</Notice>
      )}
      <section class={`summary ${isLeader ? 'summary-leader' : ''}`} aria-labelledby="summary-h">
        <h2 id="summary-h" class={isLeader ? '' : 'visually-hidden'}>
          {t('roster.leader')}
        </h2>
        <RoundProgress
          as="p"
          text={t('roster.progress', {
            assessed: roster.assessed,
            enrolled: roster.enrolled,
            share: i18n.percent(roster.coverage ?? 0),
          })}
          assessed={roster.assessed}
          enrolled={roster.enrolled}
        />
        {isLeader ? (
          <ul class="figures">
            <li class={overdue > 0 ? 'figure-alert' : ''}>
              {t('roster.overdueTotal', { count: overdue })}
            </li>
            <li>{t('roster.flagsTotal', { count: flags })}</li>
            {(['red', 'yellow', 'green', 'none'] as const).map((z) => (
              <li key={z}>
                <ZoneBadge zone={z === 'none' ? null : z} /> {zones[z]}
              </li>
            ))}
          </ul>
        ) : null}
        {next ? (
          <a
            class="button primary"
            href={href({ name: 'assess', roundId, unitId, childId: next.childId })}
          >
            {t('roster.nextMissing')}
          </a>
        ) : null}
      </section>

      <div class="toolbar">
        <div class="field">
          <label for="roster-search">{t('roster.search')}</label>
          <input
            id="roster-search"
            type="search"
            value={query}
            onInput={(e) => setQuery(e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="roster-sort">{t('roster.sort')}</label>
          <select
            id="roster-sort"
            value={sort}
            onChange={(e) => setSort(e.currentTarget.value as Sort)}
          >
            {(['name', 'status', 'zone', 'birth'] as const).map((s) => (
              <option key={s} value={s}>
                {t(`roster.sort.${s}` as MessageKey)}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="roster-filter">{t('roster.filter')}</label>
          <select
            id="roster-filter"
            value={filter}
            onChange={(e) => setFilter(e.currentTarget.value as Filter)}
          >
            {(['all', 'missing', 'attention'] as const).map((f) => (
              <option key={f} value={f}>
                {t(`roster.filter.${f}` as MessageKey)}
              </option>
            ))}
          </select>
        </div>
      </div>
      <p class="muted" aria-live="polite">
        {t('roster.count', { shown: shown.length, total: roster.children.length })}
      </p>
      {shown.length === 0 ? <p>{t('roster.empty')}</p> : null}
      <ul class="roster">
        {shown.map((c) => {
          const local = queued.get(c.childId);
          return (
            <li key={c.childId} class="roster-row" data-child-id={c.childId}>
              <div class="who">
                <a href={href({ name: 'child', roundId, unitId, childId: c.childId })}>
                  {childName(c)}
                </a>
                <span class="muted small">
                  {t('roster.born', { date: i18n.date(c.birthDate) })}
                </span>
              </div>
              <div class="state">
                {local === 'waiting' ? (
                  <span class="pill pill-queued">{t('childStatus.queued')}</span>
                ) : local ? (
                  <span class="pill pill-conflict">{t('roster.conflict')}</span>
                ) : (
                  <span class={`pill pill-${c.status}`}>
                    {t(`childStatus.${c.status}` as MessageKey)}
                  </span>
                )}
                {c.assessment ? <ZoneBadge zone={c.assessment.zone} /> : null}
                {c.openFlags > 0 ? (
                  <span class="pill pill-flag">{t('flags.count', { count: c.openFlags })}</span>
                ) : null}
                {c.overdueSteps > 0 ? (
                  <span class="pill pill-overdue">
                    {t('steps.overdue', { count: c.overdueSteps })}
                  </span>
                ) : null}
              </div>
              {open && c.status === 'missing' && !local ? (
                <a
                  class="button"
                  href={href({ name: 'assess', roundId, unitId, childId: c.childId })}
                  aria-label={`${t('roster.assess')}: ${childName(c)}`}
                >
                  {t('roster.assess')}
                </a>
              ) : (
                <a
                  class="button secondary"
                  href={href({ name: 'child', roundId, unitId, childId: c.childId })}
                  aria-label={`${t('roster.open')}: ${childName(c)}`}
                >
                  {t('roster.open')}
                </a>
              )}
            </li>
          );
        })}
      </ul>
    </main>
  );
}
