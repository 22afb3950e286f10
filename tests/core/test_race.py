"""The race as the Session holds it: runs validated field by field, saved and restored, and
built into the core's runs."""

import json

import numpy as np
import pytest

import explorer.core as ec
from explorer.core.race import DEFAULT_RUNS, MAX_RUNS, PALETTE, RunSpec, next_color, run_from_data
from explorer.core.session import Session, SessionError


def test_race_round_trips_through_json():
    s = Session("(1 - x)^2 + 100(y - x^2)^2")
    runs = (RunSpec("Adam", {"lr": 0.02, "betas": [0.8, 0.99]}, color=3, clip=2.0,
                    schedule={"kind": "cosine", "t_max": 300, "eta_min": 0.001}, noise=0.1,
                    seed=7),
            RunSpec("SGD", {"lr": 1e-3, "momentum": 0.9, "nesterov": True}, enabled=False),
            RunSpec("LBFGS", {"history_size": 5}, color=9))
    s.set_race_runs(runs)
    s.set_race_start((0.25, -0.5))
    s.set_race_steps(1234)
    s.set_race_tol(1e-7)
    back = Session.from_dict(json.loads(json.dumps(s.to_dict())))
    assert back.race_runs == s.race_runs
    # the session keeps the runs validated, the schedule's unset fields at their defaults
    assert s.race_runs[0].schedule == {"kind": "cosine", "step_size": 100, "gamma": 0.5,
                                       "t_max": 300, "eta_min": 0.001}
    assert [r.hyper for r in s.race_runs] == [r.hyper for r in runs]
    assert (back.race_start, back.race_steps, back.race_tol) == ((0.25, -0.5), 1234, 1e-7)


def test_defaults_without_race_fields():
    data = Session("x^2 + y^2").to_dict()
    for key in ("race_runs", "race_start", "race_steps", "race_tol"):
        del data[key]
    back = Session.from_dict(data)
    assert back.race_runs == DEFAULT_RUNS and back.race_steps == 500


@pytest.mark.parametrize("runs, field", [
    ("adam", "race_runs"),
    ([{"optimizer": "Adamax"}], "race_runs[0].optimizer"),
    ([{}, {"optimizer": "Adam", "hyper": {"lr": -1}}], "race_runs[1].hyper"),
    ([{"optimizer": "Adam", "hyper": {"learning_rate": 0.1}}], "race_runs[0].hyper"),
    ([{"optimizer": "Adam", "hyper": {"lr": "__import__('os')"}}], "race_runs[0].hyper.lr"),
    ([{"optimizer": "SGD", "hyper": {"nesterov": True}}], "race_runs[0].hyper"),
    ([{"color": 99}], "race_runs[0].color"),
    ([{"clip": 0}], "race_runs[0].clip"),
    ([{"noise": -1}], "race_runs[0].noise"),
    ([{"seed": 1.5}], "race_runs[0].seed"),
    ([{"schedule": {"kind": "warmup"}}], "race_runs[0].schedule.kind"),
    ([{"schedule": {"kind": "step", "gamma": 2}}], "race_runs[0].schedule.gamma"),
    ([{"enabled": "yes"}], "race_runs[0].enabled"),
    ([{"evil": 1}], "race_runs[0]"),
    ([{}] * (MAX_RUNS + 1), "race_runs"),
])
def test_bad_runs_name_the_field_and_change_nothing(runs, field):
    s = Session("x^2 + y^2")
    before = s.to_dict()
    data = dict(before, race_runs=runs)
    with pytest.raises(SessionError) as info:
        s.restore(data)
    assert info.value.field == field
    assert s.to_dict() == before


@pytest.mark.parametrize("key, value", [("race_start", [1, "a"]), ("race_start", [1]),
                                        ("race_steps", 0), ("race_steps", 10**6),
                                        ("race_tol", -1), ("race_tol", float("nan"))])
def test_bad_race_settings(key, value):
    s = Session("x^2 + y^2")
    with pytest.raises(SessionError) as info:
        s.restore(dict(s.to_dict(), **{key: value}))
    assert info.value.field == key


def test_run_spec_builds_the_core_run():
    spec = run_from_data({"optimizer": "SGD", "hyper": {"lr": 0.01, "momentum": 0.5},
                          "clip": 1.0, "schedule": {"kind": "step", "step_size": 10,
                                                    "gamma": 0.5}}, "run")
    run = spec.make_run((1.0, 2.0))
    assert run.optimizer == ec.SGD(lr=0.01, momentum=0.5)
    assert run.clip == 1.0 and run.schedule == ec.Schedule("step", step_size=10, gamma=0.5)
    f = ec.parse("x^2 + y^2")
    t = ec.optimize_many(f, [run], steps=30)[0]
    alone = ec.optimize(f, (1.0, 2.0), ec.SGD(lr=0.01, momentum=0.5), steps=30, clip=1.0,
                        schedule=ec.Schedule("step", step_size=10, gamma=0.5))
    np.testing.assert_array_equal(t.points, alone.points)
    assert spec.label == "Momentum 0.5, lr 0.01"
    assert RunSpec("LBFGS").label == "L-BFGS"
    assert RunSpec("SGD", {"lr": 0.1}).label == "GD, lr 0.1"


def test_colours_are_distinct_until_the_palette_runs_out():
    runs = []
    for _ in range(len(PALETTE)):
        runs.append(RunSpec(color=next_color(runs)))
    assert sorted(r.color for r in runs) == list(range(len(PALETTE)))
