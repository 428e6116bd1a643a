"""Password rules a password manager satisfies (NIST SP 800-63B): a length, no
composition rules, every character allowed, and a refusal of what is easy to guess.

Used by the account forms and by `flask --app app facilitator create`.
"""
import re
import unicodedata

from flask_babel import gettext as _

MIN_LENGTH = 12
MAX_LENGTH = 128   # generous for passphrases and generated passwords; longer is refused, not hashed
#: The passwordrules attribute (Safari, 1Password...) that makes generated passwords fit.
RULES_ATTRIBUTE = f"minlength: {MIN_LENGTH}; maxlength: {MAX_LENGTH};"

# The most common passwords (French and English lists), compared without case, spaces or
# punctuation. Short ones are refused by the length already; they stay listed so that the
# list does not depend on the minimum.
COMMON = frozenset("""
motdepasse motdepasse1 motdepasse12 motdepasse123 motdepasse1234 monmotdepasse monmotdepasse123
azerty azerty123 azertyuiop azertyuiop123 azerty123456 azertyazerty qsdfghjklm wxcvbn
soleil soleil123456 bonjour bonjour123456 doudou loulou chouchou marseille marseille13
jetaime jetaime123456 bienvenue bienvenue123 administrateur administrateur1 azertyuiopqsdf
password password1 password12 password123 password1234 passwordpassword mypassword123
qwerty qwerty123 qwertyuiop qwertyuiop123 qwerty123456 iloveyou iloveyou123 letmein letmein123
welcome welcome123 welcome1234 administrator admin123456 changeme changeme123 trustno1
football baseball dragon sunshine princess monkey superman starwars abc123456789
123456 12345678 123456789 1234567890 12345678910 123456789012 1234567890123 0123456789
111111111111 000000000000 123123123123 987654321987 azerty12345678 password12345678
""".split())


def normalise(password: str) -> str:
    """The same password whichever keyboard typed it: « é » is one character or two (NFKC)."""
    return unicodedata.normalize("NFKC", password)


def problem(password: str | None, email: str | None = "", name: str | None = "") -> str | None:
    """Why this password is refused for this account (a message to show), or None."""
    password = normalise(password or "")
    if len(password) < MIN_LENGTH:
        return _("Au moins 12 caractères.")
    if len(password) > MAX_LENGTH:
        return _("Mot de passe trop long : 128 caractères au plus.")
    if _squeezed(password) in COMMON or len(set(password)) <= 2:
        return _("Ce mot de passe fait partie des plus courants : choisissez-en un autre.")
    email = (email or "").strip()
    if _contains(password, email) or _mostly(password, email.partition("@")[0]):
        return _("Le mot de passe ne doit pas contenir l'adresse e-mail du compte.")
    if _contains(password, name or "") or any(_same(password, word) for word in (name or "").split()):
        return _("Le mot de passe ne doit pas contenir le nom indiqué.")
    return None


def _squeezed(text: str) -> str:
    """Lower case, letters and digits only: « Mot de passe 123! » is « motdepasse123 »."""
    return "".join(c for c in text.casefold() if c.isalnum())


def _same(password: str, word: str) -> bool:
    return bool(word) and _squeezed(password) == _squeezed(normalise(word))


def _contains(password: str, part: str) -> bool:
    """Equal to `part`, or holds it when it is long enough to mean something (4 characters)."""
    part = _squeezed(normalise(part))
    if not part:
        return False
    return part == _squeezed(password) or (len(part) >= 4 and part in _squeezed(password))


def _mostly(password: str, part: str) -> bool:
    """Holds `part` as half of itself or more, or as one of its words when it has 5 characters
    or more: « camille2026! » or « cdurand-2024-atelier » for such addresses are refused, while a
    generated passphrase that happens to hold « info » or « anne » is fine."""
    part = _squeezed(normalise(part))
    if not part or part not in _squeezed(password):
        return False
    words = {_squeezed(w) for w in re.split(r"[\W_]+", normalise(password))}
    return 2 * len(part) >= len(_squeezed(password)) or (len(part) >= 5 and part in words)


def problem_in_both_languages(password: str, email: str = "", name: str = "") -> str | None:
    """problem() for the command line: « français / English », as its other messages."""
    from flask_babel import force_locale
    with force_locale("fr"):
        french = problem(password, email, name)
    if french is None:
        return None
    with force_locale("en"):
        english = problem(password, email, name)
    return french if english == french else f"{french} / {english}"
