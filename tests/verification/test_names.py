import pytest

from verification.names import name_match_score, name_normalise, owner_match, text_mentions_name


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("Oracle America, Inc.", "oracle america"),
        ("ORACLE AMERICA INC", "oracle america"),
        ("The General Hospital Corporation", "general hospital"),
        ("Voltaic Materials GmbH", "voltaic materials"),
        ("Buyer Holdings, L.L.C.", "buyer holdings"),
        ("Samsung Electronics Co., Ltd.", "samsung electronics"),
        ("John Player & Sons Limited", "john player and sons"),
        ("华为技术有限公司", "华为技术"),
        ("Société Générale S.A.", "societe generale"),
    ],
)
def test_normalisation_drops_case_punctuation_and_corporate_forms(raw, normalised):
    assert name_normalise(raw) == normalised


def test_word_order_of_a_person_does_not_matter():
    assert name_match_score("WANG, MARVIN", "Marvin Wang") == 1.0


def test_a_near_miss_scores_below_one_and_an_unrelated_name_low():
    near = name_match_score("Acme Widgets Inc.", "Acme Widget Holdings Corporation")
    far = name_match_score("Acme Widgets Inc.", "National Aeronautics and Space Administration")
    assert 0.5 < near < 1.0
    assert far < 0.5


def test_owner_match_picks_the_closest_owner():
    match = owner_match(
        seller_name="Oracle America, Inc.", owner_names=["Sun Microsystems, Inc.", "ORACLE AMERICA INC"]
    )
    assert (match.owner_name, match.exact) == ("ORACLE AMERICA INC", True)


def test_empty_names_never_match():
    assert name_match_score("", "") == 0.0
    assert owner_match(seller_name="Acme", owner_names=[]).owner_name == ""


def test_a_text_mentions_a_party_by_its_normalised_name():
    text = "Subject to a security interest held by First Lender Bank N.A."
    assert text_mentions_name(text=text, name="FIRST LENDER BANK, N.A.")
    assert not text_mentions_name(text=text, name="Second Lender Bank")
