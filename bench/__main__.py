"""`python -m bench`: see bench/README.md."""

import os
import shutil
import tempfile

# Before smartcomm reads its configuration: keep the harness's files out of the project's var/.
own_var_dir = None if "SMARTCOMM_VAR_DIR" in os.environ else tempfile.mkdtemp(prefix="smartcomm-bench-var-")
if own_var_dir:
    os.environ["SMARTCOMM_VAR_DIR"] = own_var_dir

from bench.cli import main  # noqa: E402 (after the environment is set)

try:
    exit_code = main()
finally:
    if own_var_dir:
        shutil.rmtree(own_var_dir, ignore_errors=True)
raise SystemExit(exit_code)
