; Inno Setup 6 script: a Windows x64 installer around the PyInstaller folder.
; Not built on the Linux development machines; the GitHub Actions workflow
; (packaging/github-actions-build.yml) runs, from the repository root:
;
;   python -m PyInstaller --noconfirm --distpath dist --workpath build packaging\backprop-lab.spec
;   iscc /DAppVersion=0.1.0 packaging\windows\backprop-lab.iss
;
; Output: packaging\out\backprop-lab-<version>-windows-x64-setup.exe
; Installs per user by default (no administrator rights needed); the dialog offers
; "install for all users". The uninstaller removes everything it installed.
; Signing (Authenticode) is a manual step after this, see packaging/README.md, "Signing".

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=X.Y.Z packaging\windows\backprop-lab.iss
#endif
; the PyInstaller output folder, relative to this file
#ifndef AppSourceDir
  #define AppSourceDir "..\..\dist\backprop-lab"
#endif

[Setup]
AppId={{B21DB371-9BDA-435F-A975-A05A0F48C1C1}
AppName=Backprop Lab
AppVersion={#AppVersion}
AppVerName=Backprop Lab {#AppVersion}
AppPublisher=Backprop Lab developers
AppComments=A desktop simulator that makes backpropagation visible, number by number.
DefaultDirName={autopf}\Backprop Lab
DefaultGroupName=Backprop Lab
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir=..\out
OutputBaseFilename=backprop-lab-{#AppVersion}-windows-x64-setup
SetupIconFile=backprop-lab.ico
; the app's MIT licence; the bundled components' licences are installed with it in
; {app}\_internal\licenses (README.txt lists them; the spec collects them)
LicenseFile=..\..\LICENSE
UninstallDisplayIcon={app}\backprop-lab.exe
UninstallDisplayName=Backprop Lab {#AppVersion}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; an upgrade must not keep libraries of the previous version
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#AppSourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\Backprop Lab"; Filename: "{app}\backprop-lab.exe"; Comment: "Watch a neural network learn by backpropagation"
Name: "{autodesktop}\Backprop Lab"; Filename: "{app}\backprop-lab.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\backprop-lab.exe"; Description: "{cm:LaunchProgram,Backprop Lab}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
Type: filesandordirs; Name: "{app}\_internal"
