setenv("MY_NAME", myModuleName())
