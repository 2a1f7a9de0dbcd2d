"""The summarizers' names: the one registry that CLI choices, the settings' type, the flow's
parameter (the UI dropdown) and the docs read. Apart from `algorithms`, which imports sumy, NLTK
and SciPy (about a second), so that reading settings or parsing a command costs none of that."""

# sumy's methods, by the names users pick them with (`algorithms.SUMY_METHODS` maps them to classes)
SUMY_METHOD_NAMES: tuple[str, ...] = ("lexrank", "textrank", "lsa", "luhn", "kl", "sumbasic")
DEFAULT_ALGORITHM = "newsflow"  # the tuned scorer
ALGORITHMS: tuple[str, ...] = (DEFAULT_ALGORITHM, "lead", *SUMY_METHOD_NAMES)
