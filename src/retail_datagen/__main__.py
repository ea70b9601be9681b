"""``python -m retail_datagen`` runs the command line."""

from retail_datagen.cli import main

if __name__ == "__main__":
    main()
