setenv("BAR", myModuleFullName())
