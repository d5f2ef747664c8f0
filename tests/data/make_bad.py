"""Regenerate tests/data/bad/: each folder overrides files of tests/data/base with one defect.

Run from the repo root: python tests/data/make_bad.py. `expected.txt` in each folder is
written by hand (the exact message line the loader must give) and kept by this script.
"""

from pathlib import Path

BASE = Path(__file__).parent / "base"
BAD = Path(__file__).parent / "bad"


def lines(name):
    return (BASE / name).read_text().splitlines()


def put(case, name, text_lines):
    d = BAD / case
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_text("\n".join(text_lines) + "\n")


def edit_row(name, row, col, value):
    """Set column `col` of spreadsheet row `row` (header = row 1) to `value`."""
    ls = lines(name)
    header = ls[0].split(",")
    cells = ls[row - 1].split(",")
    cells[header.index(col)] = value
    ls[row - 1] = ",".join(cells)
    return ls


def replace_text(name, old, new):
    text = (BASE / name).read_text()
    assert old in text, (name, old)
    return text.replace(old, new, 1).splitlines()


H = "history.csv"
A = "agents.csv"
put("history_negative_aht", H, edit_row(H, 20, "aht_seconds", "-3"))
put("history_negative_contacts", H, edit_row(H, 21, "contacts", "-5"))
put("history_contacts_not_a_number", H, edit_row(H, 22, "contacts", "twelve"))
put("history_fractional_contacts", H, edit_row(H, 23, "contacts", "12.5"))
put("history_bad_datetime", H, edit_row(H, 10, "interval_start", "2026-11-23T25:00"))
put("history_misaligned_interval", H, edit_row(H, 10, "interval_start", "2026-11-23T04:15"))
dup = lines(H)
dup[10] = dup[9]
put("history_duplicate_interval", H, dup)
miss = lines(H)
del miss[30]
put("history_missing_interval", H, miss)
put("history_undeclared_queue", H, edit_row(H, 50, "driver", "billing"))
put("history_abandoned_above_contacts", H, edit_row(H, 20, "abandoned", "999"))
put("history_missing_column", H, [",".join(c for i, c in enumerate(l.split(",")) if i != 4) for l in lines(H)])
put("history_aht_too_long", H, edit_row(H, 20, "aht_seconds", "20000"))
D = "demographics.csv"
put("demographics_shares_not_one", D, edit_row(D, 2, "share", "0.5"))
put("demographics_unknown_segment", D, edit_row(D, 3, "segment", "teenagers"))
put("demographics_share_not_a_number", D, edit_row(D, 4, "share", "40%"))
S = "segments.csv"
put("segments_need_out_of_range", S, edit_row(S, 3, "warmth", "1.7"))
put("segments_missing_dimension", S, [",".join(l.split(",")[:-1]) for l in lines(S)])
dupa = lines(A)
dupa.append(dupa[1])
put("agents_duplicate_id", A, dupa)
put("agents_unknown_queue_skill", A, edit_row(A, 2, "skills", "voice/billing/en:4"))
put("agents_contract_min_above_max", A, edit_row(A, 3, "min_hours_week", "45"))
below = edit_row(A, 5, "min_hours_week", "28")
below[4] = below[4].replace(",28,20,", ",28,30,")
put("agents_availability_below_contract", A, below)
put("agents_bad_language_item", A, edit_row(A, 2, "languages", "en=1.0"))
put("agents_unknown_contract", A, edit_row(A, 5, "contract", "temp"))
put("agents_fluency_out_of_range", A, edit_row(A, 3, "languages", "en:0.8|es:1.4"))
put("agents_bad_availability_window", A, edit_row(A, 2, "avail_tue", "8am-5pm"))
put("agents_unknown_preference", A, edit_row(A, 2, "pref_chat", "love"))
put("agents_proficiency_out_of_range", A, edit_row(A, 4, "skills", "chat/returns/en:7"))
put("agents_missing_column", A, [",".join(l.split(",")[:6] + l.split(",")[7:]) for l in lines(A)])
T = "site.toml"
put("site_unknown_timezone", T, replace_text(T, 'timezone = "Europe/Madrid"', 'timezone = "Europe/Atlantis"'))
put("site_unknown_key", T, replace_text(T, "interval_minutes = 30", "interval_minutes = 30\nintervall = 15"))
put("site_interval_not_supported", T, replace_text(T, "interval_minutes = 30", "interval_minutes = 20"))
put("site_queue_unknown_channel", T, replace_text(T, 'channel = "chat"\ndriver', 'channel = "sms"\ndriver'))
put("site_not_toml", T, replace_text(T, "[site]", "[site"))
put("site_latest_before_earliest", T, replace_text(T, 'latest_start = "13:00"', 'latest_start = "06:00"'))
put("site_chat_without_target", T, replace_text(T, "service_level = 0.8\nanswer_seconds = 60\n", ""))
O = "outcomes.csv"
put("outcomes_csat_out_of_range", O, edit_row(O, 3, "csat", "9"))
put("outcomes_unknown_agent", O, edit_row(O, 2, "agent_id", "Z9"))
