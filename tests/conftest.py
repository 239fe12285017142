"""Every cbslocal the tests start (in-process or as a server process) checks each kept object it
serves against the object rendered afresh (api/rendered.py): a copy that outlived a change of
its row fails the call with InternalError, and so the test that made it."""

import os

os.environ["CBSLOCAL_VERIFY_RENDERED"] = "1"
