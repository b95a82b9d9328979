setenv("NUM", myModuleFullName())
