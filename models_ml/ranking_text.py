"""The Dutch explanation texts of the ranking marts: what each sentence says and when.

The ``explanation`` of every row of ``mart_factor_ranking`` and ``mart_factor_ranking_area`` is
written for a policy adviser, in three parts (joined by ``ranking.rank_factors``):

1. ``explanations``, per area and eligible factor, starts with the factor's name and says one of:

   - why it is not ranked: no association with the scope's sub-goals, direct or through other
     factors (``NOT_LINKED``); a score that disclosure control withholds in the area; no local
     scores (the room for improvement is unknown; with the caveat);
   - why there is little to gain: no room for improvement (the area is already in the best quarter
     of the gemeente's wijken), associations that point to a loss or to nothing (with whether the
     90% interval reaches a gain), or a gain below ``NEGLIGIBLE`` of the largest in its ranking;
   - where the gain comes: the sub-goals that carry it, in percentages of the gain (``_goal_list``;
     each marked where no local data support its part, ``_without_local_note``); the part of the
     association that runs through the strongest chain (from 5%), and, where that chain works
     against the gain, why (``_chain_clause``) and whether it rests on an assumed link; the caveat;
     the sub-goals where the association works the other way and what they cost (from 5% of the
     gain); that the gain is uncertain where the impact's 90% interval reaches below 0.

   The caveat (``caveat``, ``CAVEAT``) names only the sources the impact rests on; the text of every
   ranked factor closes with what the impact rests on (``_evidence_sentence``: the sub-goals whose
   local data point the other way, ``_against_sentence``; the shares in whole percentages,
   ``whole_percentages``; a warning where ``RESTS_ON_PLACEHOLDERS`` or more rests on placeholders).
2. ``noisy_scores_sentence``: where less than ``NOISY_SCORES`` of the differences between the
   gemeente's wijk scores on the factor is real, that the room for improvement is uncertain.
3. ``rank_sentence``: every ranked row's place in its scope's list and its 90% rank interval
   (``rank_bounds``), a place shared by a tie, and a wide interval (``WIDE_INTERVAL``).

The texts follow the published numbers (the Monte Carlo medians of ``ranking``) and what the
impacts rest on (``ranking_model``); nothing here changes a number.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models_ml.ranking_model import (
    EVIDENCE, Model, assumed_link_signs, chain_multipliers, estimated_chain_multiplier, evidence_by_goal,
    linked_factors, local_against_share, outweighing_sources, path_contributions,
)

LOCAL_SOURCE = "lokaal binnen elke buurt of wijk door de jaren heen"
"""How the caveat names the local data: each area compared with itself over the years (two-way fixed
effects), not areas with each other (ranking-1.5.0 and before: "lokaal tussen buurten en wijken")."""
CAVEAT = (f"Gebaseerd op samenhangen ({LOCAL_SOURCE}, en uit de literatuur), niet op "
          "bewezen oorzakelijke effecten.")
RESTS_ON_PLACEHOLDERS = 0.5
"""An impact with at least this share on placeholders is flagged (explanation, asset log)."""


def whole_percentages(shares: np.ndarray) -> np.ndarray:
    """Shares (adding up to 1) as whole percentages that add up to 100 (largest remainder)."""
    raw = 100 * np.asarray(shares, dtype=float)
    out = np.floor(raw)
    short = int(round(100 - out.sum()))
    out[np.argsort(-(raw - out), kind="stable")[:short]] += 1
    return out.astype(int)


def caveat(shares: np.ndarray) -> str:
    """The caveat of an explanation, naming only the sources the impact rests on (``ranking_model.evidence_shares``
    of one factor, as whole percentages like the "Onderbouwing" sentence); ``CAVEAT`` when they are
    unknown. Before ranking-1.4.0 every text named local data and the literature, also beside
    "0% lokale gegevens"."""
    if not np.isfinite(shares).all() or shares.sum() <= 0:
        return CAVEAT
    names = (LOCAL_SOURCE, "uit de literatuur", "aangenomen zonder bron")
    present = [n for n, p in zip(names, whole_percentages(shares)) if p > 0]
    listed = present[0] if len(present) == 1 else ", ".join(present[:-1]) + " en " + present[-1]
    return f"Gebaseerd op samenhangen ({listed}), niet op bewezen oorzakelijke effecten."


def _names_list(names: list[str]) -> str:
    """'"A"', '"A" en "B"', '"A", "B" en "C"'."""
    quoted = [f'"{n}"' for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " en " + quoted[-1]


def _outweighing(sources: np.ndarray) -> str:
    """What outweighs local data that point the other way, from its literature and placeholder parts
    (``ranking_model.outweighing_sources`` summed over the sub-goals named): each named from 1% of
    the two together; the literature when unknown."""
    sources = np.nan_to_num(np.asarray(sources, dtype=float))
    if sources.sum() <= 0:
        return "de literatuur"
    pct = whole_percentages(sources / sources.sum())
    return " en ".join(n for n, p in zip(("de literatuur", "de aannames zonder bron"), pct) if p > 0)


def _against_sentence(goals: list[str], sources: np.ndarray | None = None) -> str:
    """That the local data on these sub-goals point the other way from what outweighs them
    (``local_against_share``; ``sources``: ``_outweighing``), and so are not counted as support."""
    if not goals:
        return ""
    which = f"het doel {_names_list(goals)}" if len(goals) == 1 else f"de doelen {_names_list(goals)}"
    than = _outweighing(np.zeros(2) if sources is None else sources)
    return (f" Voor {which} wijzen de lokale gegevens de andere kant op dan {than}; "
            "ze tellen daarom niet mee in de onderbouwing.")


def _evidence_sentence(shares: np.ndarray, against_goals: list[str] = (), against_sources: np.ndarray | None = None) -> str:
    """What the impact rests on (``ranking_model.evidence_shares`` of one factor), for a policy adviser, after the
    sub-goals whose local data point the other way (``_against_sentence``)."""
    if not np.isfinite(shares).all():
        return _against_sentence(list(against_goals), against_sources)
    local, literature, placeholder = whole_percentages(shares)
    text = _against_sentence(list(against_goals), against_sources)
    text += (f" Onderbouwing: {local}% lokale gegevens, {literature}% onderzoeksliteratuur, "
             f"{placeholder}% aannames zonder bron.")
    if shares[EVIDENCE.index("placeholder")] >= RESTS_ON_PLACEHOLDERS:
        text += " Let op: deze plaats in de rangorde rust vooral op aannames zonder bron; zoek eerst onderbouwing."
    return text


def _without_local_note(support: np.ndarray, against: float = 0.0) -> str:
    """For one sub-goal's part of an impact (``evidence_by_goal``: its support (3,) and the local data
    against it): '' when local data support it, else what it rests on instead ('alleen literatuur',
    'alleen aannames zonder bron', 'alleen literatuur en aannames'), with ', tegen de lokale gegevens
    in' where local data point the other way. '' when unknown."""
    local, literature, placeholder = support
    if not np.isfinite(support).all() or local > 0 or literature + placeholder <= 0:
        return ""
    note = ("alleen literatuur" if placeholder <= 0 else
            "alleen aannames zonder bron" if literature <= 0 else "alleen literatuur en aannames")
    return note + (", tegen de lokale gegevens in" if against > 0 else "")


NOT_LINKED = ("niet gerangschikt, want deze factor hangt niet samen met de doelen van deze rangorde, direct noch "
              "via andere factoren.")
"""The text of a factor without any link to the scope's sub-goals (``linked_factors``), after its name."""

NEGLIGIBLE = 0.01
"""A gain below this share of the largest gain in the same ranking is called negligible."""


def _goal_list(names: list[str], pct: np.ndarray, notes: list[str] | None = None) -> str:
    """'het doel "A" (100%)' or 'de doelen "A" (60%), "B" (30%; alleen literatuur) en "C" (10%)'
    (``notes``: per sub-goal, what its part rests on where no local data support it)."""
    notes = notes or [""] * len(names)
    items = [f'"{n}" ({p:.0f}%{"; " + note if note else ""})' for n, p, note in zip(names, pct, notes)]
    if len(items) == 1:
        return f"het doel {items[0]}"
    return f"de doelen {', '.join(items[:-1])} en {items[-1]}"


def _chain_clause(model: Model, weights: np.ndarray, m_point: np.ndarray, best: np.ndarray,
                  net: np.ndarray) -> list[str]:
    """Per factor j, what to add to the chain sentence when its strongest chain (to factor
    ``best[j]``) works against the gain (``net[j] < 0``), '' otherwise; each situation its own text
    (since ranking-1.6.0; before, the first two both read "en die werkt juist de andere kant op"):

    - the chain runs against the factor model's direction: with the links' estimated strengths
      but the signs the model assumes (``assumed_link_signs``) the chain's part would help;
    - the chain runs as the model assumes, but the downstream factor itself goes with better
      outcomes where its type expects worse (or the reverse) on the sub-goals the chain reaches;
    - (only with directions that do not follow the factor types) both as the model has them: the
      model's own direction makes the chain work against the gain.
    """
    orient = model.orientation
    cols = np.arange(len(orient))
    assumed = chain_multipliers(assumed_link_signs(model) * np.abs(model.b_mean), model.direct_part,
                                len(model.subgoals))
    net_assumed = np.einsum("s,sj,sj->j", weights, model.d_mean[:, best], assumed[:, best, cols]) * orient
    # the downstream factor's own association on the sub-goals the chain reaches (positive = worse)
    own = np.einsum("s,sj,sj->j", weights, model.d_mean[:, best], np.abs(m_point[:, best, cols]))
    names = model.factors["name_nl"].tolist()
    out = []
    for j, k in enumerate(best):
        if net[j] >= 0:
            out.append("")
        elif net_assumed[j] > 0:
            out.append(", maar die keten werkt in de gegevens andersom dan het factorenmodel aanneemt, "
                       "zodat dit deel de winst juist verkleint")
        elif own[j] * orient[k] < 0:
            outcome = "betere" if own[j] < 0 else "slechtere"
            out.append(f"; die keten werkt zoals het factorenmodel aanneemt, maar meer {names[k]} gaat in de "
                       f"gegevens zelf samen met {outcome} uitkomsten op deze doelen, zodat dit deel de winst "
                       "juist verkleint")
        else:
            out.append(", en zo neemt het factorenmodel het ook aan: langs deze keten verkleint de factor de winst")
    return out


NOT_RANKED_REASONS = ("not_linked", "score_withheld", "no_local_scores")
"""The codes of ``not_ranked_reason`` (``not_ranked_reasons``), labelled in Dutch in
``seeds/factor_model/code_labels.csv`` (code_set not_ranked_reason)."""


def not_ranked_reasons(rankable: np.ndarray, linked: np.ndarray, withheld: np.ndarray | None) -> np.ndarray:
    """Why each factor is not ranked in each area, (areas, F) codes of ``NOT_RANKED_REASONS`` (None
    where it is ranked), each of which ``explanations`` writes out in words, the first that applies:
    ``not_linked``, no effect on the scope's sub-goals, direct or through the chains (``linked``,
    (F,)); ``score_withheld``, disclosure control withholds the area's score (``withheld``, (areas,
    F)); ``no_local_scores``, the room for improvement is unknown. ``rankable``: (areas, F)."""
    not_linked, score_withheld, no_local_scores = NOT_RANKED_REASONS
    out = np.full(rankable.shape, None, dtype=object)
    out[~rankable] = no_local_scores
    if withheld is not None:
        out[~rankable & withheld] = score_withheld
    out[~rankable & ~linked[None, :]] = not_linked
    return out


def explanations(model: Model, weights: np.ndarray, g: np.ndarray, rankable: np.ndarray,
                  eligible: np.ndarray, t_point: np.ndarray, m_point: np.ndarray,
                  shares: np.ndarray, paths: np.ndarray, impact: np.ndarray, impact_lower: np.ndarray,
                  impact_upper: np.ndarray, reasons: np.ndarray | None = None) -> list[str]:
    """A text a policy adviser can read per area and eligible factor, in row order (area by area,
    eligible factors in factor order).

    Which kind of text follows the published (Monte Carlo median) ``impact``, so that text and
    numbers agree. A factor with a gain of at least ``NEGLIGIBLE`` of the largest in its ranking
    gets: the sub-goals that carry the gain, in percentages of the gain (the sum of the sub-goals'
    positive contributions, chains included; the sub-goals that help add up to 100, up to
    rounding), each marked where no local data support its part ("alleen literatuur", ...); the
    strongest chain's part of the factor's association (its share of the absolute contributions,
    like ``direct_share``), whether it works the other way, and why (``_chain_clause``), and
    whether it rests on an assumed link; the caveat; the sub-goals where the association works the
    other way and what they cost together, as a part of the gain; that the gain is uncertain when
    the 90% interval of the impact reaches below 0; the sub-goals whose local data point the other
    way from the literature; and what the impact rests on (``shares``, (3, F); ``paths``:
    ``ranking_model.path_shares``). Otherwise why there is little to gain: no room for improvement, associations
    that point to a loss or to nothing, or a negligible gain (with what it rests on, too); or why
    it is not ranked: no association with the scope's sub-goals, a withheld score, no local scores
    (``reasons``: ``not_ranked_reasons``, (areas, F); default: every factor with an effect is linked
    and nothing is withheld). ``g``: (areas, F) gaps (0 where
    unknown); ``rankable``, ``impact*``: (areas, F). The place and rank interval are added by
    ``ranking.rank_factors`` (``rank_sentence``).
    """
    names = model.factors["name_nl"].tolist()
    goal_names = model.subgoals["name_nl"].tolist()
    orient = model.orientation
    per_goal_unit = (weights[:, None] * t_point * orient).T  # (F, S): w_s T[s, j] orientation_j
    per_goal = per_goal_unit[None, :, :] * g[:, :, None]  # (areas, F, S)
    gain = np.where(per_goal > 0, per_goal, 0.0).sum(axis=-1)
    loss = np.where(per_goal < 0, per_goal, 0.0)
    if reasons is None:
        reasons = not_ranked_reasons(rankable, linked_factors(model, weights), None)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct_goal = 100 * per_goal / gain[:, :, None]
        pct_loss = -100 * loss.sum(axis=-1) / gain
    top = np.argsort(-per_goal, axis=-1)[:, :, :3]
    worst = np.argmin(per_goal, axis=-1)
    # chains: the part of factor j's absolute contributions that runs through factor k (k != j)
    chain_share = np.nan_to_num(paths)
    np.fill_diagonal(chain_share, 0.0)
    best = np.argmax(chain_share, axis=0)  # per factor j
    cols = np.arange(len(names))
    # sign of that chain's part: sum_s w_s D[s, k] M_s[k, j] for k = best[j]
    net = np.einsum("s,sj,sj->j", weights, model.d_mean[:, best], m_point[:, best, cols]) * orient
    against_chain = _chain_clause(model, weights, m_point, best, net)
    # the chain's part runs only over an assumed link: nothing of it is left over estimated links
    through_est = path_contributions(weights, model.d_mean, estimated_chain_multiplier(model, m_point))
    assumed = (through_est[best, cols] == 0) & (m_point[:, best, cols] != 0).any(axis=0)
    support, local_against_size = evidence_by_goal(model, weights, m_point)  # (3, S, F), (S, F)
    against = np.nan_to_num(local_against_share(model, weights, m_point))  # (S, F)
    top_impact = np.max(np.where(rankable, impact, -np.inf), axis=1, initial=-np.inf)  # per area
    caveats = [caveat(shares[:, j]) for j in range(len(names))]
    against_at = [np.flatnonzero(np.round(100 * against[:, j]) >= 1) for j in range(len(names))]
    against_goals = [[goal_names[s] for s in at] for at in against_at]
    outweighing = outweighing_sources(model, weights, m_point)  # (2, S, F)
    evidence = [_evidence_sentence(shares[:, j], against_goals[j], outweighing[:, against_at[j], j].sum(axis=1))
                for j in range(len(names))]
    texts: list[str] = []
    for a in range(g.shape[0]):
        for j in np.flatnonzero(eligible):
            name = names[j]
            if reasons[a, j] == "not_linked":
                texts.append(f"{name}: {NOT_LINKED}")
                continue
            if reasons[a, j] == "score_withheld":
                texts.append(f"{name}: niet gerangschikt, want de score op deze factor wordt hier niet gepubliceerd "
                             f"(te kleine aantallen), en de ruimte voor verbetering en de winst zouden hem prijsgeven.")
                continue
            if reasons[a, j] == "no_local_scores":
                texts.append(f"{name}: niet gerangschikt, want er zijn geen lokale gegevens over hoe vaak deze "
                             f"factor voorkomt (ruimte voor verbetering onbekend). {caveats[j]}")
                continue
            if g[a, j] <= 0:
                texts.append(f"{name}: weinig te winnen (geen ruimte voor verbetering: dit gebied hoort op deze "
                             f"factor al bij het beste kwart van de wijken van de gemeente). {caveats[j]}{evidence[j]}")
                continue
            if impact[a, j] <= 0 or gain[a, j] <= 0:
                finding = ("wijst eerder op verlies dan op winst" if impact[a, j] < 0 else "wijst niet op winst")
                open_gain = ", maar dat is onzeker: de 90%-marge reikt tot winst" if impact_upper[a, j] > 0 else ""
                texts.append(f"{name}: weinig te winnen (de gevonden samenhang {finding}{open_gain}). {caveats[j]}{evidence[j]}")
                continue
            if impact[a, j] < NEGLIGIBLE * top_impact[a]:
                texts.append(f"{name}: weinig te winnen (de winst is verwaarloosbaar: minder dan "
                             f"{100 * NEGLIGIBLE:.0f}% van die van de bovenste factor). {caveats[j]}{evidence[j]}")
                continue
            pct = pct_goal[a, j]
            named = [s for s in top[a, j] if round(pct[s]) >= 1]
            notes = [_without_local_note(support[:, s, j], local_against_size[s, j]) for s in named]
            text = (f"{name}: de winst komt vooral bij "
                    f"{_goal_list([goal_names[s] for s in named], pct[named], notes)}.")
            k = best[j]
            if round(100 * chain_share[k, j]) >= 5:
                text += f" Van de samenhang loopt {100 * chain_share[k, j]:.0f}% via de keten naar {names[k]}"
                text += against_chain[j]
                if assumed[j]:
                    text += " (een aangenomen schakel, zonder lokale gegevens)"
                text += "."
            text += f" {caveats[j]}"
            if pct_loss[a, j] >= 5:
                others = int((np.round(-100 * loss[a, j] / gain[a, j]) >= 1).sum()) - 1
                more = "" if others <= 0 else (" en nog 1 ander doel" if others == 1 else f" en nog {others} andere doelen")
                text += (f' Voor het doel "{goal_names[worst[a, j]]}"{more} werkt de samenhang juist de andere '
                         f"kant op; dat kost {pct_loss[a, j]:.0f}% van die winst.")
            if impact_lower[a, j] < 0:
                text += " De winst is onzeker: de 90%-marge loopt van verlies tot winst."
            texts.append(text + evidence[j])
    return texts


SCOPE_KEY = ["scope_type", "scope_id", "area_code"]
"""The columns of one ranked list, a scope in an area: ``rank_sentence`` counts its ranked factors,
``ranking.priority`` numbers them."""

WIDE_INTERVAL = 0.5
"""A 90% rank interval covering more than this share of a scope's ranked factors is called wide: the
data cannot tell the factor apart from most of the others."""


def rank_bounds(rows: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """The 90% rank interval as whole places: ``rank_ci90_lower`` rounded down, ``rank_ci90_upper`` up
    (a half rank, of factors that tie in a draw, widens the interval to the places they share)."""
    return np.floor(rows["rank_ci90_lower"]).astype("Int64"), np.ceil(rows["rank_ci90_upper"]).astype("Int64")


def rank_sentence(rows: pd.DataFrame) -> pd.Series:
    """Per ranked row, its place in its scope's list and its 90% rank interval in plain Dutch: "Plaats 3
    van 34; met 90% zekerheid tussen plaats 1 en 28." (``priority``, the scope's ranked factors,
    ``rank_bounds``), noting a place it shares (the same ``rank_median`` as other factors: the list's
    order between them is a tie-break, and the place given is the group's first ``priority``), and, where the interval is wide (more than ``WIDE_INTERVAL``
    of the list), that the data cannot tell the factor apart from most other factors. '' for rows
    that are not ranked. Since ranking-1.6.0 (before, no text named the rank's uncertainty, while
    the median city-wide interval in the demo spanned 24 of 34 places).

    The interval the text gives also holds the places the factor is given (since ranking-1.6.2): a
    rank is the mean of the places that factors tied in a draw share, so ranks crowd together where
    many factors tie (no room for improvement in a wijk), while the list numbers its factors 1, 2,
    3, ...: eight factors tied at rank 22.5 in every draw (interval 20-25) share places 19-26, and
    the last of a list of 34 can have the interval 24-32. The text then says 19-26 and 24-34
    (``rank_ci90_lower`` and ``_upper`` keep the ranks); before, 19 of the demo's 642 ranked texts
    gave a place outside their own interval."""
    ranked = rows["rankable"].astype(bool)
    n = ranked.groupby([rows[c] for c in SCOPE_KEY]).transform("sum").astype(int)
    tie_group = rows[ranked].groupby(SCOPE_KEY + ["rank_median"])
    ties = tie_group["factor_id"].transform("size").reindex(rows.index).fillna(1).astype(int)
    # a shared place is the tie group's first: the list's order within it is a tie-break; the interval
    # below is widened to the group's places, which ranks averaged over ties need not reach
    place = tie_group["priority"].transform("min").reindex(rows.index)
    others = ties - 1
    lower, upper = rank_bounds(rows)
    lower = np.minimum(lower, place.astype("Int64"))  # the places the text gives lie inside its interval
    upper = np.maximum(upper, (place + others).astype("Int64"))
    text = lambda values: values.astype(str)  # noqa: E731
    shared = " (gedeeld met " + text(others) + " andere factor" + np.where(others > 1, "en", "") + ")"
    shared = shared.where(others > 0, "")
    width = upper - lower + 1
    wide = (width > WIDE_INTERVAL * n) & (width > 1)  # one place is certain, also in a list of one
    sentence = (" Plaats " + text(place.fillna(0).astype(int)) + " van " + text(n) + shared
                + "; met 90% zekerheid tussen plaats " + text(lower) + " en " + text(upper) + "."
                + pd.Series(np.where(wide.fillna(False).to_numpy(dtype=bool),
                                     " De gegevens kunnen deze factor dus niet onderscheiden van de meeste andere "
                                     "factoren.", ""), index=rows.index))
    return sentence.where(ranked, "")


NOISY_SCORES = 0.5
"""A factor whose wijk scores in a gemeente are real differences for less than this share
(``ranking.score_reliability``) gets ``noisy_scores_sentence``."""


def noisy_scores_sentence(rows: pd.DataFrame, reliability: pd.Series) -> pd.Series:
    """Per ranked row whose factor's wijk scores in its gemeente are mostly sampling noise
    (``reliability``, indexed by gemeente_code and factor_id, below ``NOISY_SCORES``), that the room
    for improvement is uncertain and counts for less: the draws take those scores from their
    posterior (``ranking.posterior_scores``), so the impact is well below room for improvement x effect.
    '' elsewhere. Since ranking-1.6.0."""
    gemeente = "GM" + rows["area_code"].astype(str).str[2:6]
    share = reliability.reindex(pd.MultiIndex.from_arrays([gemeente, rows["factor_id"]])).to_numpy(dtype=float)
    noisy = rows["rankable"].astype(bool).to_numpy() & (share < NOISY_SCORES)
    pct = np.round(100 * np.nan_to_num(share)).astype(int).astype(str)
    text = (" De verschillen tussen de wijken op deze factor zijn grotendeels toeval (steekproefruis; naar schatting "
            + pct + "% is echt verschil), dus de ruimte voor verbetering is onzeker en telt minder mee.")
    return pd.Series(np.where(noisy, text, ""), index=rows.index)
