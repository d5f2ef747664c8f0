"""Calibrate the fit weights from interaction outcomes (CSAT, first-contact resolution).

1. Components per interaction: `interaction_components` scores each (agent, queue,
   segment) of the outcomes with the fit formulas against that *segment's* needs and
   preferred language (the customer actually served), not the queue's average.
2. A deterministic split by agent: an agent is in training when
   blake2b(f"{seed}:{agent_id}") / 2**64 < train_share (70 % by default), so no agent's
   interactions leak between training and test.
3. Fitting, non-negative and normalised to sum 1:
   - target "csat": non-negative least squares (scipy.optimize.nnls) of centred CSAT on
     the centred components; centring makes the free intercept drop out exactly.
   - target "fcr": logistic regression of FCR with bounds beta >= 0 (L-BFGS-B, analytic
     gradient), free intercept.
   The weights are beta / sum(beta); sum(beta) is the CSAT points (or log-odds) per unit fit.
4. Held-out comparison: for the default and the calibrated weights alike, the fit score
   s = X w is mapped to the target with an affine (CSAT) or logistic (FCR) link fitted on
   the training agents; the metric is taken on the test agents: RMSE of CSAT or log-loss
   of FCR (lower is better), plus the AUC of the fit score for FCR (higher is better).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from scipy.optimize import minimize, nnls
from scipy.stats import rankdata

from profiles.errors import CalibrationError, FitInputError
from profiles.fit import COMPONENTS, FitParams, agent_features, check_dimensions, check_weights, score
from profiles.guard import DEFAULT_PROTECTED, assert_no_protected
from profiles.models import AGENT_SKILLS_SCHEMA, OUTCOMES_SCHEMA, QUEUES_SCHEMA
from profiles.needs import NEED_PREFIX, PREFERS_PREFIX, require, segment_languages

TARGETS = ("csat", "fcr")
DEFAULT_WEIGHTS = {"proficiency": 0.4, "language": 0.2, "style": 0.3, "channel_preference": 0.1}


def interaction_components(
    outcomes: pl.DataFrame,
    agents: pl.DataFrame,
    agent_skills: pl.DataFrame,
    agent_languages: pl.DataFrame,
    agent_styles: pl.DataFrame,
    agent_channel_prefs: pl.DataFrame,
    segments: pl.DataFrame,
    segment_needs: pl.DataFrame,
    queues: pl.DataFrame,
    dimensions: Mapping[str, float],
    *,
    params: FitParams = FitParams(),
    protected: Iterable[str] = DEFAULT_PROTECTED,
) -> pl.DataFrame:
    """agent_id, queue_id, segment, eligible and the four components, one row per distinct
    (agent, queue, segment) in `outcomes`, scored against the segment's own needs."""
    protected = tuple(protected)
    dimensions = check_dimensions(dimensions)
    for table, frame in (("agents", agents), ("agent_skills", agent_skills), ("agent_languages", agent_languages),
                         ("agent_channel_prefs", agent_channel_prefs), ("outcomes", outcomes), ("queues", queues)):
        assert_no_protected(frame, table, protected)
    style_dims = agent_styles.get_column("dimension").unique().to_list() if "dimension" in agent_styles.columns else []
    assert_no_protected(agent_styles, "agent_styles", protected, names=style_dims)
    assert_no_protected(None, "culture dimensions", protected, names=list(dimensions))
    dims = list(dimensions)
    pairs = require(outcomes, "outcomes", {"agent_id": pl.Utf8, "queue_id": pl.Utf8, "segment": pl.Utf8}).unique(maintain_order=True)
    qs = require(queues, "queues", QUEUES_SCHEMA).select("queue_id", "channel", "language").unique("queue_id")
    needs = require(segment_needs, "segment_needs", {"segment": pl.Utf8, "dimension": pl.Utf8, "need": pl.Float64}).filter(pl.col("dimension").is_in(dims))
    seg = segment_languages(segments).filter(pl.col("rank") == 0).select("segment", "preferred")
    langs = sorted(set(seg.get_column("preferred").to_list()) | set(qs.get_column("language").to_list()))
    wide = needs.pivot(on="dimension", index="segment", values="need") if needs.height else pl.DataFrame(schema={"segment": pl.Utf8})
    wide = wide.rename({d: NEED_PREFIX + d for d in wide.columns if d != "segment"})
    targets = (
        seg.join(wide, on="segment", how="left")
        .with_columns((pl.col("preferred") == lang).cast(pl.Float64).alias(PREFERS_PREFIX + lang) for lang in langs)
        .with_columns(pl.lit(None, pl.Float64).alias(NEED_PREFIX + d) for d in dims if NEED_PREFIX + d not in wide.columns)
        .drop("preferred")
    )
    unknown = pairs.join(targets, on="segment", how="anti").get_column("segment").unique().sort().to_list()
    if unknown:
        raise FitInputError(f"outcomes: unknown segment(s) {', '.join(unknown[:10])}; expected a segment of segments")
    channels = sorted(qs.get_column("channel").unique().to_list())
    feats = agent_features(agents, agent_languages, agent_styles, agent_channel_prefs, dims, langs, channels)
    skills = require(agent_skills, "agent_skills", AGENT_SKILLS_SCHEMA).unique(["agent_id", "queue_id"], keep="first")
    grid = (
        pairs.join(qs, on="queue_id", how="inner")
        .join(feats, on="agent_id", how="inner")
        .join(targets, on="segment", how="inner")
        .join(skills, on=["agent_id", "queue_id"], how="left")
    )
    scored = score(grid, DEFAULT_WEIGHTS, dimensions, langs, channels, params, with_reasons=False)
    return scored.select("agent_id", "queue_id", "segment", "eligible", *[pl.col(f"c_{k}").alias(k) for k in COMPONENTS]).sort("agent_id", "queue_id", "segment")


def in_training(agent_ids: Iterable[str], seed: int, train_share: float) -> dict[str, bool]:
    """Deterministic agent split: same ids, seed and share, same split on every machine."""
    out = {}
    for a in agent_ids:
        h = int.from_bytes(hashlib.blake2b(f"{seed}:{a}".encode(), digest_size=8).digest(), "big")
        out[a] = h / 2**64 < train_share
    return out


@dataclass(frozen=True)
class CalibrationResult:
    """Learned weights, and how they compare with the defaults on held-out agents."""

    target: str
    weights: dict[str, float]
    default_weights: dict[str, float]
    metric: str  # "rmse_csat" or "log_loss_fcr": lower is better
    metric_default: float
    metric_calibrated: float
    auc_default: float | None  # AUC of the fit score for FCR on held-out agents
    auc_calibrated: float | None
    scale: float  # CSAT points (or FCR log-odds) per unit of fit with the calibrated weights
    train_rows: int
    test_rows: int
    train_agents: int
    test_agents: int
    seed: int
    train_share: float
    dropped_rows: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def improved(self) -> bool:
        return self.metric_calibrated < self.metric_default

    def summary(self) -> str:
        what = "RMSE of CSAT" if self.metric == "rmse_csat" else "log-loss of FCR"
        lines = [
            f"Calibrated on {self.target.upper()}: {self.train_rows:,} interactions of {self.train_agents} agents; "
            f"held out {self.test_rows:,} interactions of {self.test_agents} agents (seed {self.seed}, {self.train_share:.0%} train).",
            f"{'component':<20}{'default':>9}{'calibrated':>12}",
        ]
        lines += [f"{k:<20}{self.default_weights[k]:>9.3f}{self.weights[k]:>12.3f}" for k in COMPONENTS]
        lines.append(f"held-out {what}: default {self.metric_default:.4f}, calibrated {self.metric_calibrated:.4f} (lower is better)")
        if self.auc_default is not None and self.auc_calibrated is not None:
            lines.append(f"held-out AUC of fit for FCR: default {self.auc_default:.4f}, calibrated {self.auc_calibrated:.4f} (higher is better)")
        lines += self.notes
        return "\n".join(lines)

    def to_toml(self) -> str:
        """A `[fit_weights]` block site.toml can adopt as is."""
        what = "RMSE of CSAT" if self.metric == "rmse_csat" else "log-loss of FCR"
        head = [
            f"# Calibrated from {self.train_rows:,} interactions ({self.target}), held out {self.test_rows:,}:",
            f"# held-out {what} {self.metric_calibrated:.4f} with these weights vs {self.metric_default:.4f} with the previous ones.",
            "[fit_weights]",
        ]
        return "\n".join(head + [f"{k} = {self.weights[k]:.4f}" for k in COMPONENTS]) + "\n"


def _auc(y: np.ndarray, s: np.ndarray) -> float | None:
    pos = y == 1
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = rankdata(s)
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _logistic(X: np.ndarray, y: np.ndarray, nonneg: bool) -> np.ndarray:
    """Intercept + coefficients of a logistic regression; coefficients >= 0 when `nonneg`."""
    A = np.column_stack([np.ones(len(X)), X])

    def loss(beta: np.ndarray) -> tuple[float, np.ndarray]:
        z = A @ beta
        ll = np.logaddexp(0.0, z) - y * z
        p = 1.0 / (1.0 + np.exp(-z))
        return float(ll.mean()), A.T @ (p - y) / len(y)

    bounds = [(None, None)] + [((0.0, None) if nonneg else (None, None))] * X.shape[1]
    res = minimize(loss, np.zeros(A.shape[1]), jac=True, method="L-BFGS-B", bounds=bounds, options={"maxiter": 1000})
    return res.x


def _log_loss(y: np.ndarray, z: np.ndarray) -> float:
    return float((np.logaddexp(0.0, z) - y * z).mean())


def calibrate(
    outcomes: pl.DataFrame,
    fit_components: pl.DataFrame,
    *,
    target: str = "csat",
    default_weights: Mapping[str, float] | None = None,
    train_share: float = 0.7,
    seed: int = 0,
    min_rows: int = 30,
) -> CalibrationResult:
    """Learn non-negative component weights (sum 1) from outcomes; see the module doc.

    `outcomes`: agent_id, queue_id, segment, csat (1-5), fcr (0/1).
    `fit_components`: agent_id, queue_id, [segment], proficiency, language, style,
    channel_preference, e.g. from `interaction_components` (per segment) or `fit_matrix`
    (per queue). Outcomes without components are dropped and counted.
    """
    if target not in TARGETS:
        raise CalibrationError(f"target must be one of {', '.join(TARGETS)}, got {target!r}")
    if not 0 < train_share < 1:
        raise CalibrationError(f"train_share must be between 0 and 1, got {train_share}")
    default = check_weights(default_weights or DEFAULT_WEIGHTS)
    total = sum(default.values())
    default = {k: v / total for k, v in default.items()}
    try:
        out = require(outcomes, "outcomes", OUTCOMES_SCHEMA)
        keys = ["agent_id", "queue_id"] + (["segment"] if "segment" in fit_components.columns else [])
        comps = require(fit_components, "fit components", {**{k: pl.Utf8 for k in keys}, **{c: pl.Float64 for c in COMPONENTS}})
    except FitInputError as exc:
        raise CalibrationError(str(exc)) from None
    comps = comps.unique(keys, keep="first")
    data = out.drop_nulls([target]).join(comps, on=keys, how="inner").drop_nulls(list(COMPONENTS))
    dropped = out.height - data.height
    split = in_training(data.get_column("agent_id").unique().sort().to_list(), seed, train_share)
    data = data.with_columns(pl.col("agent_id").replace_strict(split, return_dtype=pl.Boolean).alias("_train"))
    train, test = data.filter(pl.col("_train")), data.filter(~pl.col("_train"))
    if train.height < min_rows or test.height < max(5, min_rows // 4):
        raise CalibrationError(
            f"too few outcomes to calibrate: {train.height} training and {test.height} test interactions after matching "
            f"{out.height} outcomes to fit components ({dropped} without components); need at least {min_rows} for training"
        )
    Xtr, Xte = train.select(COMPONENTS).to_numpy(), test.select(COMPONENTS).to_numpy()
    ytr, yte = train.get_column(target).to_numpy().astype(float), test.get_column(target).to_numpy().astype(float)
    notes: list[str] = []
    if dropped:
        notes.append(f"{dropped:,} outcome(s) had no fit components (unknown agent, queue or segment) and were left out.")

    if target == "csat":
        xm, ym = Xtr.mean(axis=0), ytr.mean()
        beta, _ = nnls(Xtr - xm, ytr - ym)
    else:
        if len(np.unique(ytr)) < 2:
            raise CalibrationError("FCR is the same for every training interaction; nothing to learn")
        beta = _logistic(Xtr, ytr, nonneg=True)[1:]
    scale = float(beta.sum())
    if scale <= 1e-12:
        raise CalibrationError(f"no component has a positive relation with {target} in the training data; keep the current weights")
    weights = {k: float(b / scale) for k, b in zip(COMPONENTS, beta)}

    def held_out(w: Mapping[str, float]) -> tuple[float, float | None]:
        wv = np.array([w[k] for k in COMPONENTS])
        s_tr, s_te = Xtr @ wv, Xte @ wv
        if target == "csat":
            b, a = np.polyfit(s_tr, ytr, 1) if np.ptp(s_tr) > 0 else (0.0, ytr.mean())
            metric = float(np.sqrt(np.mean((a + b * s_te - yte) ** 2)))
        else:
            a, b = _logistic(s_tr[:, None], ytr, nonneg=False)
            metric = _log_loss(yte, a + b * s_te)
        fcr = test.get_column("fcr").to_numpy()
        return metric, _auc(fcr, s_te)

    m_def, auc_def = held_out(default)
    m_cal, auc_cal = held_out(weights)
    if m_cal >= m_def:
        notes.append("The calibrated weights do not beat the current ones on held-out agents; consider keeping the current weights.")
    return CalibrationResult(
        target=target,
        weights=weights,
        default_weights=default,
        metric="rmse_csat" if target == "csat" else "log_loss_fcr",
        metric_default=m_def,
        metric_calibrated=m_cal,
        auc_default=auc_def,
        auc_calibrated=auc_cal,
        scale=scale,
        train_rows=train.height,
        test_rows=test.height,
        train_agents=train.get_column("agent_id").n_unique(),
        test_agents=test.get_column("agent_id").n_unique(),
        seed=seed,
        train_share=train_share,
        dropped_rows=dropped,
        notes=notes,
    )
