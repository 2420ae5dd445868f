from mediatagger.cli import main

main()
