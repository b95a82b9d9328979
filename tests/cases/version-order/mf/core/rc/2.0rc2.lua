setenv("RC", myModuleFullName())
