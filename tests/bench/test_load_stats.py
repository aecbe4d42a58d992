"""The load generator's statistics (bench.load) and the table (bench.report); no server is started."""

from bench.flows import form_fields, letters
from bench.load import Recorder, Stats, percentile
from bench.report import Row, table


def test_percentile_is_nearest_rank():
    values = [i / 1000 for i in range(100, 0, -1)]  # 0.001 … 0.100, unsorted
    assert percentile(values, 50) == 0.050
    assert percentile(values, 99) == 0.099
    assert percentile(values, 100) == 0.100
    assert percentile(values, 0) == 0.001
    assert percentile([], 50) == 0.0
    assert percentile([0.2], 99) == 0.2


def test_stats_rate_percentiles_and_5xx():
    stats = Stats()
    for ms in (10, 20, 30, 40):
        stats.add(ms / 1000, 200)
    stats.add(0.5, 503)
    stats.add(1.0, -1)  # a connection failure counts with the 5xx
    stats.elapsed = 2.0
    assert stats.count == 6 and stats.rps == 3.0
    assert stats.ms(50) == 30.0 and stats.ms(99) == 1000.0
    assert stats.errors_5xx == 2
    merged = Stats()
    merged.merge(stats)
    merged.merge(stats)
    assert merged.count == 12 and merged.elapsed == 4.0 and merged.rps == 3.0


def test_recorder_keeps_labels_apart():
    recorder = Recorder()
    recorder.add("a", 0.01, 200)
    recorder.add("b", 0.02, 500)
    assert recorder.stats("a").count == 1 and recorder.all_5xx() == 1


def test_form_fields_reads_the_marked_form_only():
    html = ('<form class="other"><input name="x" value="1"></form>'
            '<form method="post" class="checkout-form"><input type="hidden" name="nonce" value="n&amp;1">'
            '<input type="checkbox" name="c"><input type="checkbox" name="d" checked value="y">'
            '<select name="s"><option value="">-</option><option value="7">a</option></select>'
            '<select name="t"><option value="1">a</option><option value="2" selected>b</option></select>'
            '<input type="submit" name="action" value="place"></form>')
    assert form_fields(html, "checkout-form") == {"nonce": "n&1", "d": "y", "s": "", "t": "2"}
    assert form_fields(html, "checkout-form", choose=("s",))["s"] == "7"


def test_letters_spell_distinct_names():
    assert letters(0) == "aaaaa" and letters(27) == "aaabb"
    assert len({letters(i) for i in range(2000)}) == 2000


def test_the_table_marks_violations():
    rows = [Row("a", "catalog", "10 req/s", "≥ 1", "0.5", passed=True), Row("g", "morning", violations=["2 oversold"])]
    text = table(rows)
    assert "| a | catalog | 10 req/s | ≥ 1 | 0.5 | pass |" in text
    assert "VIOLATION: 2 oversold" in text and "not yet measured" in text
