setenv("FOO", myModuleFullName())
