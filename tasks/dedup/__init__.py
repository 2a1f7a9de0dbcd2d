"""Copies (exact, near, contained) and stories. The near-duplicate defaults live here, where the
settings read them without importing NumPy."""

NEAR_DUP_THRESHOLD = 0.8  # true Jaccard of word shingles needed to call two texts near-duplicates
MINHASH_PERMUTATIONS = 112
SHINGLE_WORDS = 5
