"""Entry point of haar's Python runtime client: `python3 <runtimes>/python/bootstrap.py`.

The client is haar_lambda_runtime.py beside this file (what it does and the environment it
reads are described there). It is loaded under a private module name, so that it runs from
cached bytecode (a script is compiled again on every start: ~10 ms of a cold start) and no
module of the function's can shadow it.
"""

import os
import sys
from importlib.machinery import SourceFileLoader

NAME = "_haar_lambda_runtime"

if __name__ == "__main__":
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "haar_lambda_runtime.py")
    loader = SourceFileLoader(NAME, path)
    runtime = type(sys)(NAME)
    runtime.__file__ = path
    runtime.__loader__ = loader
    sys.modules[NAME] = runtime
    loader.exec_module(runtime)
    runtime.main()
