"""Schemathesis hooks for test_fuzz.py, loaded through SCHEMATHESIS_HOOKS.

A fuzzer holding Global Administrator will, sooner or later, delete or disable the very service
principal whose token it is using, or remove its role assignments, and every later request would
then be a 401. Writes aimed at the ids in SIGIL_FUZZ_PROTECTED (the fuzzing principals, their
applications and role assignments) are sent to an id that names nothing instead; the reply (404)
is still checked against the document like any other."""
import os

import schemathesis

PROTECTED = {value.lower() for value in os.environ.get("SIGIL_FUZZ_PROTECTED", "").split(",") if value}
NOWHERE = "00000000-0000-0000-0000-00000000f022"


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.method.upper() == "GET" or not case.path_parameters:
        return
    target = case.path_parameters.get("id")
    if isinstance(target, str) and target.lower() in PROTECTED:
        case.path_parameters["id"] = NOWHERE
