#!/usr/bin/env python3
"""What scikit-learn's TfidfVectorizer makes of a few documents, for SoftmaxText's tests:
Tests/SoftmaxTextTests/Fixtures/sklearn_tfidf.json holds the documents and, for each of a few
settings, the vocabulary (sorted, as scikit-learn sorts it: by code point, which is UTF-8 byte
order) and the CSR arrays of fit_transform. token_pattern=r"(?u)[^\\W_]{2,}" gives the words
of swift-softmax's Tokenizer (runs of letters and digits, two or more).

    python3 -m venv /tmp/venv-sk && /tmp/venv-sk/bin/pip install scikit-learn==1.9.1
    /tmp/venv-sk/bin/python Scripts/make_text_fixtures.py
"""
import json
import os

import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir)
OUT = os.path.join(ROOT, "Tests", "SoftmaxTextTests", "Fixtures", "sklearn_tfidf.json")

documents = []
with open(os.path.join(ROOT, "Data", "texts.txt"), encoding="utf-8") as f:
    for line in list(f)[:60]:
        documents.append(" ".join(t for t in line.split() if not t.startswith("__label__")))
documents += [
    "Ünïcode_x ÉCOLE école e-mail 42 x² ½ a b cd",
    "東京タワー and ΣΊΣΥΦΟΣ; naïve café, CAFÉ, Café!",
    "",
    "the the the the cat",
    "Straße STRASSE straße 3.14 don't",
]

SETTINGS = {
    "words": dict(),
    "bigrams_min2": dict(ngram_range=(1, 2), min_df=2),
    "sublinear_no_norm": dict(sublinear_tf=True, norm=None),
    "binary_no_idf": dict(binary=True, use_idf=False),
}

cases = {}
for name, settings in SETTINGS.items():
    vectorizer = TfidfVectorizer(token_pattern=r"(?u)[^\W_]{2,}", **settings)
    x = vectorizer.fit_transform(documents).tocsr()
    x.sort_indices()
    vocabulary = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get)
    assert vocabulary == sorted(vocabulary)
    cases[name] = {
        "settings": {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()},
        "vocabulary": vocabulary,
        "idf": [float(v) for v in vectorizer.idf_] if vectorizer.use_idf else None,
        "indptr": [int(v) for v in x.indptr],
        "indices": [int(v) for v in x.indices],
        "data": [float(v) for v in x.data],
    }

with open(OUT, "w", encoding="utf-8") as f:
    json.dump({"sklearn": sklearn.__version__, "documents": documents, "cases": cases}, f,
              ensure_ascii=False, indent=1)
    f.write("\n")
