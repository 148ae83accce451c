"""Reading the end of a task log without reading the whole file."""

from flowsched.notify.logtail import tail_lines


def test_last_fifty_of_two_hundred_lines(tmp_path):
    log = tmp_path / "attempt=1.log"
    log.write_text("".join(f"line {i:03d}\r\n" for i in range(1, 201)))

    assert tail_lines(log) == [f"line {i:03d}" for i in range(151, 201)]


def test_short_and_empty_logs(tmp_path):
    log = tmp_path / "a.log"
    log.write_text("only\nthree\nlines")
    assert tail_lines(log) == ["only", "three", "lines"]
    log.write_text("")
    assert tail_lines(log) == []


def test_huge_last_lines_are_cut_to_the_byte_budget_at_a_line_start(tmp_path):
    log = tmp_path / "a.log"
    log.write_text("é" * 5000 + "\n" + "x" * 300 + "\n" + "end\n")

    assert tail_lines(log, max_bytes=1000) == ["x" * 300, "end"]
