"""Writes the fastText model bench/fasttext/run.sh times: the vocabulary of wiki-lee-corpus.txt
(every word, min_count 1), 100 dimensions, 200,000 n-gram buckets, n-grams of 3 to 6 characters,
vectors as gensim initializes them (latency does not depend on training), saved with gensim
4.4.0's `save_facebook_model`. Also writes the out-of-vocabulary probe words, one a line.

Usage: python3 make_model.py CORPUS MODEL PROBES
"""

import random
import sys

from gensim.models import FastText
from gensim.models.fasttext import save_facebook_model


def misspell(word, rng):
    """The word with two neighbouring letters swapped and one letter dropped or doubled."""
    letters = list(word)
    i = rng.randrange(len(letters) - 1)
    letters[i], letters[i + 1] = letters[i + 1], letters[i]
    j = rng.randrange(len(letters))
    if rng.random() < 0.5:
        del letters[j]
    else:
        letters.insert(j, letters[j])
    return "".join(letters)


def main():
    corpus, model_path, probes_path = sys.argv[1:4]
    sentences = [line.split() for line in open(corpus, encoding="utf-8")]
    model = FastText(vector_size=100, min_count=1, bucket=200_000, min_n=3, max_n=6, seed=1, workers=1)
    model.build_vocab(corpus_iterable=sentences)
    save_facebook_model(model, model_path)
    rng = random.Random(5)
    vocab = model.wv.key_to_index
    words = [w for w in model.wv.index_to_key[:20_000] if len(w) >= 5 and w.isalpha()]
    probes = []
    while len(probes) < 1000:
        candidate = misspell(rng.choice(words), rng)
        if candidate not in vocab:
            probes.append(candidate)
    with open(probes_path, "w", encoding="utf-8") as out:
        out.write("\n".join(probes) + "\n")


if __name__ == "__main__":
    main()
