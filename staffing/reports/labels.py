"""Plain words for ids shown to people: queue ids, languages, routing profiles."""

from __future__ import annotations

from staffing.routing.profiles import PROFILE_SEPARATOR

LANGUAGE_NAMES = {"en": "English", "es": "Spanish", "fr": "French", "de": "German", "pt": "Portuguese", "it": "Italian",
                  "nl": "Dutch", "pl": "Polish", "zh": "Chinese", "ja": "Japanese", "ar": "Arabic", "hi": "Hindi", "tl": "Tagalog",
                  "he": "Hebrew", "ru": "Russian", "tr": "Turkish", "ko": "Korean", "vi": "Vietnamese"}
CHANNEL_WORDS = {"voice": "Voice", "chat": "Chat", "email": "Email", "back_office": "Back office"}


def language_name(code: str) -> str:
    """English name of a language code (`es` -> Spanish); the code itself when unknown."""
    return LANGUAGE_NAMES.get(code, code)


#: The activity of a working interval on no queue (every queue the agent may serve closed).
OFFLINE = "offline"
OFFLINE_WORDS = "Offline (no queue open)"


def queue_label(queue_id: str) -> str:
    """Plain words for a queue id: ``voice/new_orders/en`` -> ``Voice, new orders, English``;
    the ``offline`` activity -> ``Offline (no queue open)``."""
    if queue_id == OFFLINE:
        return OFFLINE_WORDS
    parts = queue_id.split("/")
    if len(parts) != 3:
        return queue_id
    channel, driver, lang = parts
    return f"{CHANNEL_WORDS.get(channel, channel.replace('_', ' ').capitalize())}, {driver.replace('_', ' ')}, {language_name(lang)}"


def profile_label(profile: str) -> str:
    """A routing profile (queue ids in priority order joined by ``|``) in words: the first
    queue, then ``+ n more`` when the agent is logged into others too."""
    queues = [q for q in profile.split(PROFILE_SEPARATOR) if q]
    if not queues:
        return profile
    more = len(queues) - 1
    return queue_label(queues[0]) + (f" + {more} more queue{'s' if more != 1 else ''}" if more else "")


STATUS_WORDS = {
    "OPTIMAL": "best possible roster: proven optimal under the rules",
    "FEASIBLE": "a valid roster, not proven the best possible",
    "INFEASIBLE": "no roster can satisfy the hard rules",
    "MODEL_INVALID": "the roster model is invalid (a defect: please report it)",
    "UNKNOWN": "no roster found within the time limit",
}


def status_words(status: str | None, time_limit_hit: bool | None = None, gap: float | None = None) -> str:
    """A solver status in plain words, with why a valid roster is not proven best."""
    if status is None:
        return "unknown"
    text = STATUS_WORDS.get(str(status).upper(), str(status))
    if str(status).upper() == "FEASIBLE":
        why = []
        if time_limit_hit:
            why.append("the search stopped at its time limit")
        if gap is not None:
            why.append(f"by the lower bound, at most {100 * gap:.2f}% of the requirement could still be gained")
        if why:
            text += " (" + "; ".join(why) + ")"
    return text


def bound_words(bound: dict) -> str:
    """summary.json `lower_bound` in plain words: how the lower bound was computed and whether
    it is the LP's exact optimum or a valid but lower figure."""
    if bound.get("method") == "none":
        return "lower bound: 0, every requirement is covered"
    if "MIP" in str(bound.get("method")):
        exact = "the relaxation with whole shifts solved to optimality" if bound.get("converged") else "a valid bound from a branch and bound stopped at its node budget (the optimum may be higher)"
    else:
        exact = "the LP relaxation solved to optimality" if bound.get("converged") else "a valid bound from an LP solve stopped early (the exact LP may be higher)"
    return f"lower bound by {bound.get('method')}: {exact}"
