"""Lesson 09's records, byte model and trainers: seeded, causal, and they learn."""

import re

import numpy as np
import pytest
import torch

from utils.lm import model as lm_model
from utils.lm import records
from utils.lm.train import TrainedLM, bits_per_byte, fit_lm, train_lm, train_lm_dp


def test_records_are_seeded_and_locales_differ():
    assert records.make_records(5, seed=3) == records.make_records(5, seed=3)
    assert records.make_records(5, seed=3) != records.make_records(5, seed=4)
    us, gb = records.make_records(50, seed=0), records.make_records(50, seed=0, locale="en_GB")
    assert all(r.startswith("Patient ") and "Diagnosis: " in r and len(r.encode()) <= lm_model.MAX_BYTES for r in us)
    us_ssn = re.compile(r"SSN \d{3}-\d{2}-\d{4},")
    assert all(us_ssn.search(r) for r in us) and not any(us_ssn.search(r) for r in gb)  # UK: NI numbers
    years = [int(r.split("born ")[1][:4]) for r in records.make_records(200, seed=0, years=(1985, 1990))]
    assert min(years) >= 1985 and max(years) <= 1990


def test_canaries_john_doe_first_most_repeated_with_random_secrets():
    canaries = records.make_canaries(3, (1, 2, 4, 8, 16), n_digits=6, seed=0)
    assert canaries.prefixes[0] == "John Doe's PIN is " and canaries.repetitions[0] == 16
    assert sorted(canaries.repetitions.tolist()) == [1, 1, 1, 2, 2, 2, 4, 4, 4, 8, 8, 8, 16, 16, 16]
    assert all(len(s) == 6 and s.isdigit() for s in canaries.secrets) and len(set(canaries.secrets)) == 15
    corpus = records.build_corpus(["a", "b"], canaries, seed=0)
    assert len(corpus) == 2 + 93 and corpus.count(canaries.texts[0]) == 16
    deduped = records.build_corpus(["a", "b"], canaries, seed=0, dedup=True)
    assert len(deduped) == 17 and all(deduped.count(t) == 1 for t in canaries.texts)


def test_encode_texts_shapes_and_errors():
    inputs, targets, mask = lm_model.encode_texts(["ab", "xyz"])
    assert inputs.tolist() == [[lm_model.BOS, 97, 98], [lm_model.BOS, 120, 121]]
    assert targets.tolist() == [[97, 98, 0], [120, 121, 122]] and mask.sum(1).tolist() == [2, 3]
    with pytest.raises(ValueError, match="one string"):
        lm_model.encode_texts("abc")
    with pytest.raises(ValueError, match=r"texts\[1\] is 200 bytes long"):
        lm_model.encode_texts(["ok", "x" * 200])
    with pytest.raises(ValueError, match="non-empty string"):
        lm_model.encode_texts(["ok", ""])


def test_model_size_and_causality():
    torch.manual_seed(0)
    model = lm_model.build_lm().eval()
    assert 250_000 < lm_model.count_parameters(model) < 320_000
    x = torch.randint(3, 250, (2, 20))
    y = x.clone()
    y[:, 12:] = torch.randint(3, 250, (2, 8))
    with torch.no_grad():
        a, b = model(x), model(y)
    torch.testing.assert_close(a[:, :12], b[:, :12])  # later bytes never change earlier predictions
    assert not torch.allclose(a[:, 12:], b[:, 12:])


def test_training_is_seeded_learns_and_round_trips_through_plain_data():
    texts = records.make_records(40, seed=0)
    first = train_lm(texts, epochs=3, batch_size=16, seed=0)
    again = train_lm(texts, epochs=3, batch_size=16, seed=0)
    np.testing.assert_allclose(first.losses, again.losses)
    assert first.steps == 9 and first.losses[-1] < first.losses[0] - 1.0
    model = TrainedLM.from_dict(fit_lm(texts, epochs=3, batch_size=16, seed=0)).model()
    assert bits_per_byte(model, texts) == pytest.approx(bits_per_byte(first.model(), texts), rel=1e-6)
    assert bits_per_byte(model, texts) < 7.0  # below 8 bits: it learnt something
    assert train_lm(texts, epochs=3, batch_size=16, seed=0, max_steps=4).steps == 4


def test_dp_training_reaches_the_target_epsilon():
    texts = records.make_records(64, seed=0)
    trained = train_lm_dp(texts, epsilon=8.0, epochs=2, batch_size=16, seed=0)
    assert trained.epsilon == pytest.approx(8.0, rel=0.05) and trained.steps > 0
    assert set(trained.state_dict) == set(lm_model.build_lm().state_dict())  # loads into a plain model
    trained.model()
