# The package's version: the project's, project(kindmps VERSION ...) in the top-level
# CMakeLists.txt. Change both together; the ctests python_bindings and python_install check that
# they agree.
__version__ = "0.1.0"
