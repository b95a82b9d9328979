no_such_function("x")
