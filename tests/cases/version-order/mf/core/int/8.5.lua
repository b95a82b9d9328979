setenv("INT", myModuleFullName())
