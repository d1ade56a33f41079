"""The workshop kit: what a teacher needs to plan a session and to know before the day that
every laptop or Colab runtime in the room will run it.

* :mod:`~edgelab.workshop.lessons` - what each lesson needs: its data, the packages and
  engines it imports, the models it takes from earlier lessons (and what happens without
  them), the builds it makes on first use;
* :mod:`~edgelab.workshop.doctor` - ``edgelab doctor [LESSON]``: the pre-flight each
  participant runs the day before, one table with a fix for every failure;
* :mod:`~edgelab.workshop.prepare` - ``edgelab prepare [LESSON...]``: the downloads,
  builds and hand-over models done ahead of time instead of in class;
* :mod:`~edgelab.workshop.notes` - ``edgelab teach``: the teacher's notes
  (``teaching/NN_*.md``) and the one- and two-day timetables, generated from the notebooks
  and the recorded runs (per-section times from :mod:`edgelab.run.sections`).

The classroom mirror (``edgelab data serve``) belongs to the data layer
(:mod:`edgelab.datasets.serve`). This package sits above the lessons: it may use a
lesson's documented loaders (``load_or_train``, the Hub resolver) to prepare what that
lesson would otherwise make in class, and nothing a lesson uses depends on it.
"""
