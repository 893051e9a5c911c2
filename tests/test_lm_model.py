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


def test_logits_after_a_shared_prefix_are_those_of_the_whole_text():
    torch.manual_seed(0)
    model = lm_model.ByteTransformer().eval()
    prefix = torch.tensor([lm_model.BOS, *b"John Doe's PIN is "])
    continuations = torch.tensor([list(b"46634"), list(b"00000"), list(b"98765")])
    full = model(torch.cat([prefix.expand(3, -1), continuations], dim=1))
    last, logits = model.after_prefix(prefix, continuations)
    torch.testing.assert_close(last, full[0, len(prefix) - 1], rtol=0, atol=1e-5)
    torch.testing.assert_close(logits, full[:, len(prefix):], rtol=0, atol=1e-5)
    alone, none = model.after_prefix(prefix, continuations[:, :0])
    torch.testing.assert_close(alone, last, rtol=0, atol=1e-6) and none.shape == (3, 0, 256)
    with pytest.raises(ValueError, match="more than this model's max_length"):
        model.after_prefix(prefix, torch.zeros(1, lm_model.MAX_BYTES, dtype=torch.long))


def test_a_batch_split_by_length_gives_the_loss_and_gradient_of_the_whole_padded_batch():
    from utils.lm.train import _step_loss, length_groups

    assert [g.tolist() for g in length_groups(np.array([100, 20, 98, 25, 110]))] == [[1, 3], [2, 0, 4]]
    assert [g.tolist() for g in length_groups(np.array([100, 101, 99]))] == [[2, 0, 1]]  # nothing to save
    texts = records.make_records(6, seed=0) + ["John Doe's PIN is 466345."] * 4
    inputs, targets, mask = lm_model.encode_texts(texts)
    rows = np.arange(len(texts))
    torch.manual_seed(0)
    model = lm_model.ByteTransformer()
    grouped = _step_loss(model, inputs, targets, mask, rows)
    grouped.backward()
    grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    logits = model(torch.from_numpy(inputs))  # one pass over the whole padded batch
    per_byte = torch.nn.functional.cross_entropy(logits.reshape(-1, 256), torch.from_numpy(targets).reshape(-1),
                                                 reduction="none").view(targets.shape)
    whole = (per_byte * torch.from_numpy(mask)).sum() / mask.sum()
    whole.backward()
    torch.testing.assert_close(grouped, whole, rtol=1e-6, atol=1e-6)
    for g, p in zip(grads, model.parameters()):
        torch.testing.assert_close(g, p.grad, rtol=1e-4, atol=1e-6)
