"""Company-name normalisation and merge suggestions for the partnership map.

Each test is a set of spellings users really type, and asserts what the facilitator would see:
which names are offered as one company, in which order, with which score and reasons.
"""
import csv
from pathlib import Path

import pytest

from aeh_workshop.partners.grouping import suggest
from aeh_workshop.partners.names import Context, Name, Reason, normalise, score, siren_of

# A copy of ../shared/data/partner-links-sample.csv: the tests must not depend on a sibling folder.
SAMPLE = Path(__file__).resolve().parent / "data" / "partner-links-sample.csv"


def names(*raw: str) -> list[Name]:
    """One organisation per spelling, ids from 1 in order."""
    return [Name(i, n) for i, n in enumerate(raw, start=1)]


def grouped(groups) -> set[frozenset[str]]:
    return {frozenset(g.names) for g in groups}


# --- normalise -----------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, key", [
    ("Plasturgie de l'Ain SAS", "plasturgie ain"),
    ("PLASTURGIE DE L AIN", "plasturgie ain"),
    ("Plasturgie de l\u2019Ain", "plasturgie ain"),
    ("plasturgie-de-l'ain", "plasturgie ain"),
    ("Clinique du Val de Saône", "clinique val saone"),
    ("Élec Revermont", "elec revermont"),
    ("Œuvre des Sœurs", "oeuvre soeurs"),
    ("Ærø Straße", "aero strasse"),
    ("Boulangerie Martin & Fils", "boulangerie martin"),
    ("Boulangerie Martin et fils", "boulangerie martin"),
    ("Martin Frères SARL", "martin"),
    ("Fils Martin", "fils martin"),
    ("Dupont & Cie", "dupont"),
    ("Cie des Alpes", "compagnie alpes"),
    ("Sté Générale de Transport SARL", "societe generale transport"),
    ("Societe generale de transport", "societe generale transport"),
    ("Ets Dupont", "etablissements dupont"),
    ("St Priest Intl", "saint priest international"),
    ("Grp Ainvest", "groupe ainvest"),
    ("Asso AEH", "association aeh"),
    ("SM Bressan", "supermarche bressan"),
    ("Hyper U", "hypermarche u"),
    ("Faure Conseil GmbH", "faure conseil"),
    ("The Company of Lyon Ltd.", "company lyon"),
])
def test_normalise_gives_one_key_per_company(raw, key):
    assert normalise(raw) == key


@pytest.mark.parametrize("raw, key", [("SAS", "sas"), ("Les Fils", "les fils"), ("& Cie", "et cie")])
def test_normalise_never_empties_a_name(raw, key):
    assert normalise(raw) == key


@pytest.mark.parametrize("raw", ["", "   ", "---"])
def test_normalise_of_nothing_is_empty(raw):
    assert normalise(raw) == ""


# --- siren_of ------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, siren", [
    ("123456789", "123456789"),
    ("123 456 789", "123456789"),
    ("12345678900012", "123456789"),
    ("123 456 789 00012", "123456789"),
    ("12345678", None),
    ("1234567890", None),
    ("12345678A", None),
    ("000 000 000", None),
    ("", None),
    (None, None),
])
def test_siren_of_reads_siren_and_siret(raw, siren):
    assert siren_of(raw) == siren


# --- groups users must see -----------------------------------------------------------------------

def test_five_spellings_of_one_company_make_one_group():
    spellings = ["Plasturgie de l'Ain SAS", "PLASTURGIE DE L AIN", "Plasturgie Ain",
                 "Plasturgie de l\u2019Ain", "plasturgie-de-l'ain"]
    [group] = suggest(names(*spellings))
    assert sorted(group.ids) == [1, 2, 3, 4, 5]
    assert group.names[0] == "Plasturgie de l'Ain SAS"  # the most complete spelling
    assert group.score == 1.0
    assert group.reasons == [Reason("same_name")]


@pytest.mark.parametrize("a, b", [
    ("Groupe Ainvest", "Groupe Serfim"),
    ("Transports Lyon", "Boulangerie Lyon"),
    ("Plasturgie de l'Ain", "Plasturgie du Rhône"),
    ("Hôtel Dombes", "Espaces Verts Dombes"),
    ("Boulangerie Martin", "Boucherie Martin"),
    ("Société Générale", "Société Lyonnaise"),
    ("Logistique Ain-Sud", "Plasturgie de l'Ain"),
])
def test_near_misses_stay_apart(a, b):
    assert suggest(names(a, b)) == []
    assert score(Name(1, a), Name(2, b))[0] < 0.6


@pytest.mark.parametrize("a, b", [
    ("Groupe Ainvest", "Groupe Serfim"),
    ("Transports Lyon", "Boulangerie Lyon"),
    ("Plasturgie de l'Ain", "Plasturgie du Rhône"),
    ("Hôtel Dombes", "Espaces Verts Dombes"),
    ("Société Générale", "Société Lyonnaise"),
])
def test_generic_or_place_words_alone_score_zero(a, b):
    assert score(Name(1, a), Name(2, b)) == (0.0, [])


def test_same_name_with_different_sirens_is_two_companies():
    pair = [Name(1, "Garage Martin", "123456789"), Name(2, "GARAGE MARTIN", "987654321")]
    assert suggest(pair) == []
    assert score(*pair) == (0.0, [])


def test_same_siren_groups_different_names():
    pair = [Name(1, "Transports Rhodaniens", "123 456 789"), Name(2, "TR Logistique", "123456789")]
    [group] = suggest(pair)
    assert group.ids == [1, 2] and group.score == 1.0
    assert group.reasons[0] == Reason("same_siren", "123456789")


def test_siret_and_siren_of_one_company_match():
    pair = [Name(1, "Mutuelle Rhône-Ain", "12345678900012"), Name(2, "MRA", "123 456 789")]
    [group] = suggest(pair)
    assert sorted(group.ids) == [1, 2]
    assert Reason("same_siren", "123456789") in group.reasons


def test_rejected_pair_is_never_grouped():
    assert suggest(names("Plasturgie Ain", "Plasturgie de l'Ain"), rejected=[frozenset({1, 2})]) == []


def test_rejected_pair_is_not_joined_through_a_third_spelling():
    groups = suggest(names("Plasturgie Ain", "Plasturgie de l'Ain", "PLASTURGIE AIN"),
                     rejected=[frozenset({1, 2})])
    assert [sorted(g.ids) for g in groups] == [[1, 3]]


def test_chain_through_incompatible_places_is_cut():
    groups = suggest(names("Plasturgie de l'Ain", "Plasturgie", "Plasturgie du Rhône"))
    assert len(groups) == 1
    assert 2 in groups[0].ids and len(groups[0].ids) == 2


def test_chain_through_different_sirens_is_cut():
    groups = suggest([Name(1, "Bourg Graphic", "123456789"), Name(2, "Bourg Graphic"),
                      Name(3, "BOURG GRAPHIC SARL", "987654321")])
    assert [sorted(g.ids) for g in groups] == [[1, 2]]


def test_reasons_carry_the_users_words_for_an_acronym():
    [group] = suggest(names("EV Dombes", "Espaces Verts Dombes"))
    assert group.names == ["Espaces Verts Dombes", "EV Dombes"]
    assert group.reasons == [Reason("abbreviation", "EV", "Espaces Verts")]
    assert 0.6 <= group.score < 1.0


def test_reasons_carry_the_users_words_for_a_contained_name():
    [group] = suggest(names("Bourg Graphic", "Imprimerie Bourg Graphic"))
    assert group.names == ["Imprimerie Bourg Graphic", "Bourg Graphic"]
    assert group.reasons == [Reason("contained", "Imprimerie", "Bourg Graphic")]


def test_an_expanded_abbreviation_is_shown():
    [group] = suggest(names("SM Bressan", "Supermarché Bressan"))
    assert group.names == ["Supermarché Bressan", "SM Bressan"]
    assert group.score == 1.0
    assert group.reasons == [Reason("same_name"), Reason("abbreviation", "SM", "Supermarché")]


def test_a_cut_word_is_an_abbreviation():
    [group] = suggest(names("Transp. Rhodaniens", "TRANSPORTS RHODANIENS SA"))
    assert group.reasons == [Reason("abbreviation", "Transp", "TRANSPORTS")]
    assert group.score == 0.9


def test_a_misspelt_word_is_a_spelling():
    [group] = suggest(names("Plasturgi de l'Ain", "Plasturgie Ain"))
    assert group.reasons == [Reason("spelling", "Plasturgi", "Plasturgie")]
    assert 0.6 <= group.score < 1.0


def test_a_word_many_companies_use_stops_identifying_them():
    spellings = ("Garage", "Garage Martin", "Garage Faure", "Garage Bressan")
    assert score(Name(1, "Garage"), Name(2, "Garage Martin"))[0] >= 0.6  # alone it would match
    assert suggest(names(*spellings)) == []
    context = Context.build(names(*spellings))
    assert score(Name(1, "Garage"), Name(2, "Garage Martin"), context)[0] == 0.0


def test_one_companys_own_spellings_do_not_make_its_name_common():
    groups = suggest(names("Bourg Graphic", "Imprimerie Bourg Graphic", "Bourg Graphic Imprimerie SARL"))
    assert [sorted(g.ids) for g in groups] == [[1, 2, 3]]
    assert groups[0].score == 0.72


def test_blank_names_and_repeated_ids_are_ignored():
    assert suggest([Name(1, ""), Name(2, "   ", "123456789"), Name(3, "Cabinet Faure", "123456789"),
                    Name(4, "---")]) == []
    assert suggest([Name(1, "Cabinet Faure"), Name(1, "CABINET FAURE")]) == []


def test_groups_come_most_certain_first_then_by_name():
    groups = suggest(names("Bourg Graphic", "Imprimerie Bourg Graphic", "GROUPE AINVEST",
                           "Groupe Ainvest", "Clinique Val de Saone", "Clinique du Val de Saône"))
    assert [(g.names[0], g.score) for g in groups] == [
        ("Clinique du Val de Saône", 1.0), ("GROUPE AINVEST", 1.0), ("Imprimerie Bourg Graphic", 0.72)]


# --- the sample partnership map ------------------------------------------------------------------

def test_sample_file_gives_exactly_the_real_companies():
    with SAMPLE.open(encoding="utf-8") as f:
        raw = list(dict.fromkeys(row["partenaire"] for row in csv.DictReader(f)))
    groups = suggest(names(*raw))
    assert grouped(groups) == {
        frozenset({"Clinique du Val de Saône", "Clinique Val de Saone"}),
        frozenset({"Imprimerie Bourg Graphic", "Bourg Graphic"}),
        frozenset({"GROUPE AINVEST", "Groupe Ainvest"}),
        frozenset({"Espaces Verts Dombes", "EV Dombes"}),
        frozenset({"Plasturgie Ain", "Plasturgie de l'Ain"}),
        frozenset({"Boulangerie Martin", "Boulangerie Martin & Fils"}),
        frozenset({"SM Bressan", "Supermarche Bressan"}),
    }
    assert all(0.6 <= g.score <= 1.0 for g in groups)


def test_dotted_initialisms_are_one_word():
    assert normalise("A.D.A.P.E.I. du Rhône") == "adapei rhone"
    assert score(Name(1, "A.D.A.P.E.I."), Name(2, "ADAPEI"))[0] == 1.0
    assert not suggest([Name(1, "I.M.E. Les Cèdres"), Name(2, "I.M.P. Les Cèdres")])
