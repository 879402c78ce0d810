import pytest

from textdesk.conversations.segments import count_segments


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("", "GSM-7", 0),
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("ж" * 70, "UCS-2", 1),
        ("ж" * 71, "UCS-2", 2),
        ("ж" * 134, "UCS-2", 2),
        ("ж" * 135, "UCS-2", 3),
    ],
)
def test_segment_boundaries(text, encoding, segments):
    result = count_segments(text)
    assert result.encoding == encoding
    assert result.segments == segments


def test_plain_text_counts_one_septet_per_character():
    result = count_segments("Your order is ready for pickup.")
    assert (result.encoding, result.units, result.segments) == ("GSM-7", 31, 1)
    assert result.remaining == 160 - 31


def test_euro_sign_counts_two_septets():
    assert count_segments("€").units == 2
    assert count_segments("€" * 80).segments == 1
    assert count_segments("€" * 81).segments == 2
    assert count_segments("€").encoding == "GSM-7"


def test_brace_counts_two_septets():
    result = count_segments("{" + "a" * 158)
    assert (result.units, result.segments) == (160, 1)
    assert count_segments("{" + "a" * 159).segments == 2


def test_escaped_pair_is_never_split_across_parts():
    # 152 septets then a two-septet character: it cannot straddle the 153 boundary.
    result = count_segments("a" * 152 + "€" + "a" * 10)
    assert result.segments == 2
    assert result.remaining == 153 - 12


def test_one_emoji_makes_the_whole_text_ucs2():
    result = count_segments("Thanks 😀")
    assert result.encoding == "UCS-2"
    assert result.characters == 8
    assert result.units == 9  # the emoji is a surrogate pair
    assert result.segments == 1


def test_emoji_counts_two_units_at_the_limit():
    assert count_segments("😀" + "a" * 68).segments == 1
    assert count_segments("😀" + "a" * 69).segments == 2


def test_surrogate_pair_is_never_split_across_parts():
    result = count_segments("a" * 66 + "😀" + "a" * 4)
    assert result.segments == 2
    assert result.remaining == 67 - 6


def test_accented_gsm_letters_stay_gsm7():
    assert count_segments("Café à Zürich, ¿Qué?").encoding == "GSM-7"
    assert count_segments("naïve").encoding == "UCS-2"
