from worldmodel.cli import main

main()
