// FerryEmulator
