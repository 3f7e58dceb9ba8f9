"""From scores to lists: top-k, candidate pools, normalisation, fusion, re-ranking, explanations."""
