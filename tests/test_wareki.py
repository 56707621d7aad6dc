import datetime as dt

import pytest

from disaster.wareki import DateFormatError, parse_date, to_wareki


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("令和5年4月1日", dt.date(2023, 4, 1)),
        ("R5.4.1", dt.date(2023, 4, 1)),
        ("R05/04/01", dt.date(2023, 4, 1)),
        ("r5-4-1", dt.date(2023, 4, 1)),
        ("昭和15年3月2日", dt.date(1940, 3, 2)),
        ("令和元年5月1日", dt.date(2019, 5, 1)),
        ("平成元年1月8日", dt.date(1989, 1, 8)),
        ("H31.4.30", dt.date(2019, 4, 30)),
        ("昭和64年1月7日", dt.date(1989, 1, 7)),
        ("大正15年12月24日", dt.date(1926, 12, 24)),
        ("Ｓ１５．３．２", dt.date(1940, 3, 2)),
        ("1940-03-02", dt.date(1940, 3, 2)),
        ("1940/3/2", dt.date(1940, 3, 2)),
        ("１９４０年３月２日", dt.date(1940, 3, 2)),
    ],
)
def test_parses_wareki_and_seireki(text: str, expected: dt.date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("平成31年5月1日", "期間外"),  # 平成 ended on 30 April 2019
        ("令和1年4月30日", "期間外"),  # 令和 began on 1 May 2019
        ("昭和64年1月8日", "期間外"),
        ("R5.2.30", "存在しない"),
        ("2023-13-01", "存在しない"),
        ("R0.1.1", "期間外"),
        ("昭和十五年", "読めません"),
        ("", "読めません"),
    ],
)
def test_rejects_impossible_dates_with_reason(text: str, reason: str) -> None:
    with pytest.raises(DateFormatError, match=reason):
        parse_date(text)


def test_to_wareki_round_trips_and_uses_gannen() -> None:
    assert to_wareki(dt.date(2019, 5, 1)) == "令和元年5月1日"
    assert to_wareki(dt.date(2019, 4, 30)) == "平成31年4月30日"
    for day in (dt.date(1926, 12, 25), dt.date(1989, 1, 7), dt.date(2024, 2, 29)):
        assert parse_date(to_wareki(day)) == day


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("S.15.3.2", dt.date(1940, 3, 2)),
        ("昭15.3.2", dt.date(1940, 3, 2)),
        ("平元.1.8", dt.date(1989, 1, 8)),
        ("R.5.4.1", dt.date(2023, 4, 1)),
        ("19400302", dt.date(1940, 3, 2)),
        ("1940/03/02 0:00:00", dt.date(1940, 3, 2)),
        ("1940-03-02 00:00", dt.date(1940, 3, 2)),
        ("14672", dt.date(1940, 3, 2)),  # Excel serial of 1940-03-02
        ("14672.0", dt.date(1940, 3, 2)),
        ("45017", dt.date(2023, 4, 1)),
    ],
)
def test_parses_the_forms_of_real_exports(text: str, expected: dt.date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("19400230", "存在しない"),
        ("1940", "年だけ"),  # a year is not an Excel serial
        ("60", "シリアル値"),  # before 1900-03-01 Excel's serials are off by a day
        ("1940/03/02 9:30:00", "読めません"),  # a time of day is not a birth date
        ("昭64.1.8", "期間外"),
    ],
)
def test_rejects_ambiguous_export_forms(text: str, reason: str) -> None:
    with pytest.raises(DateFormatError, match=reason):
        parse_date(text)
