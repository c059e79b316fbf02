import type { LinealClient } from '../../../../clients/typescript/index.js';
import { items } from '../../../../clients/typescript/index.js';
import { type Schemas, unwrap } from '../api.js';
import { ErrorNotice, Loading, OfflineNotice, RoundProgress } from '../components.js';
import { useApp } from '../context.js';
import { href } from '../router.js';
import { cachePut } from '../storage.js';
import { useLoad } from '../use-load.js';

type Unit = Schemas['Unit'];
type Round = Schemas['Round'];
type Roster = Schemas['RoundRoster'];

export interface UnitWithRounds {
  unit: Unit;
  /** The roster is fetched (and kept offline) for the first units only: see ROSTER_UNITS. */
  rounds: { round: Round; roster: Roster | null }[];
}

/**
 * A unit's staff has a few units; a municipality-wide key sees every unit. Rosters (and their
 * offline copies) are fetched ahead for this many units; further units' rounds open on demand.
 */
const ROSTER_UNITS = 10;

export const rosterKey = (roundId: string, unitId: string) => `roster:${roundId}:${unitId}`;
export const rulerKey = (versionId: string) => `ruler:${versionId}`;

export async function fetchRuler(api: LinealClient, versionId: string) {
  return unwrap(
    await api.GET('/v1/ruler-versions/{versionId}', { params: { path: { versionId } } }),
  );
}

/**
 * My units with their open rounds and each round's roster. While online this also stores the
 * rosters and the rounds' ruler versions, so the open round can be worked offline.
 */
async function fetchHome(api: LinealClient, me: Schemas['Me']): Promise<UnitWithRounds[]> {
  const units: Unit[] = [];
  if (me.principal.unitIds.length > 0) {
    for (const unitId of me.principal.unitIds) {
      units.push(unwrap(await api.GET('/v1/units/{unitId}', { params: { path: { unitId } } })));
    }
  } else {
    for await (const unit of items((cursor) =>
      api.GET('/v1/units', { params: { query: { limit: 200, ...(cursor ? { cursor } : {}) } } }),
    )) {
      units.push(unit);
    }
  }
  const result: UnitWithRounds[] = [];
  const rulers = new Set<string>();
  for (const unit of units) {
    const page = unwrap(
      await api.GET('/v1/rounds', { params: { query: { unitId: unit.id, status: 'open' } } }),
    );
    // Between rounds: the latest closed one, to follow up on (its roster, flags and steps).
    if (page.items.length === 0) {
      const closed = unwrap(
        await api.GET('/v1/rounds', {
          params: { query: { unitId: unit.id, status: 'closed', limit: 1 } },
        }),
      );
      page.items.push(...closed.items);
    }
    const rounds = [];
    for (const round of page.items) {
      if (result.length >= ROSTER_UNITS) {
        rounds.push({ round, roster: null });
        continue;
      }
      const roster = unwrap(
        await api.GET('/v1/rounds/{roundId}/units/{unitId}/children', {
          params: { path: { roundId: round.id, unitId: unit.id } },
        }),
      );
      await cachePut(rosterKey(round.id, unit.id), { round, unit, roster });
      rulers.add(round.rulerVersionId);
      rounds.push({ round, roster });
    }
    result.push({ unit, rounds });
  }
  for (const versionId of rulers)
    await cachePut(rulerKey(versionId), await fetchRuler(api, versionId));
  return result;
}

export function Home() {
  const { api, me, i18n, revision } = useApp();
  const t = i18n.t;
  const state = useLoad('home', () => fetchHome(api, me), [revision]);
  return (
    <main id="main">
      <h1>{t('home.title')}</h1>
      {state.status === 'loading' ? <Loading /> : null}
      {state.status === 'error' ? <ErrorNotice error={state.error} /> : null}
      {state.status === 'ready' ? (
        <>
          {state.offline ? <OfflineNotice storedAt={state.storedAt} /> : null}
          {state.data.length === 0 ? <p>{t('home.noUnits')}</p> : null}
          <ul class="cards">
            {state.data.map(({ unit, rounds }) => (
              <li class="card" key={unit.id}>
                <h2>{unit.name}</h2>
                <h3 class="small">
                  {rounds.some(({ round }) => round.status === 'open')
                    ? t('home.openRounds')
                    : t('home.latestRound')}
                </h3>
                {rounds.length === 0 ? <p class="muted">{t('home.noOpenRound')}</p> : null}
                <ul class="plain">
                  {rounds.map(({ round, roster }) => (
                    <li key={round.id} class="round-link">
                      <a href={href({ name: 'roster', roundId: round.id, unitId: unit.id })}>
                        <strong>{round.name}</strong>
                        <span class="muted">
                          {t('home.window', {
                            from: i18n.date(round.windowStart),
                            to: i18n.date(round.windowEnd),
                          })}
                        </span>
                        {roster ? (
                          <RoundProgress
                            text={t('home.progress', {
                              assessed: roster.assessed,
                              enrolled: roster.enrolled,
                            })}
                            assessed={roster.assessed}
                            enrolled={roster.enrolled}
                          />
                        ) : null}
                      </a>
                    </li>
                  ))}
                </ul>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </main>
  );
}
