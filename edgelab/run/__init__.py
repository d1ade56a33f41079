"""Running the curriculum: ``edgelab run``, the notebook convention and the command line.

* :mod:`~edgelab.run.runner` - executes notebooks headless, one fresh kernel each, and
  writes a report;
* :mod:`~edgelab.run.sections` - a notebook's ``##`` sections, the time each took, and
  which names each hands to later ones (where a teacher can cut);
* :mod:`~edgelab.run.convention` - the header, badge and setup cell every notebook
  carries, stamped from one source and checked;
* :mod:`~edgelab.run.cli` - the ``edgelab`` command, which only lists the subcommands
  each module registers.
"""
