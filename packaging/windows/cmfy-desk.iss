; Inno Setup script of Cmfy Desk's Windows installer (64-bit, per machine, under Program Files).
;
; packaging/build.py compiles it after PyInstaller's one-folder build, with the values below that
; only the build knows:
;
;   ISCC /DAppVersion=0.2.0rc1 /DNumericVersion=0.2.0.0 /DSourceDir=dist\cmfy-desk
;        /DSetupIcon=build\packaging\cmfy-desk.ico /Odist packaging\windows\cmfy-desk.iss
;
; It installs both programs of the build: cmfy-desk.exe (console, for the command line) and
; cmfy-desk-gui.exe (no console window), which the Start menu entry, the optional desktop icon
; and "Open with" start. The uninstaller removes the program and asks whether to also remove
; the user's database, settings and logs, and the default images folder; it keeps them unless
; the user ticks them.
;
; NOTE: compiled and tried only on a Windows machine with Inno Setup; CI builds Linux packages
; only, so this script has been checked by reading, not by running ISCC.

#if VER < EncodeVer(6, 6, 0)
  #error Inno Setup 6.6 or later is needed: CreateCustomForm takes its size as arguments since 6.6.
#endif
#ifndef AppVersion
  #error AppVersion is not defined. Build with packaging/build.py, which passes /DAppVersion and the other values to ISCC.
#endif
#ifndef NumericVersion
  #error NumericVersion is not defined. Build with packaging/build.py.
#endif
#ifndef SourceDir
  #error SourceDir (the one-folder build) is not defined. Build with packaging/build.py.
#endif
#ifndef SetupIcon
  #error SetupIcon (the .ico file) is not defined. Build with packaging/build.py.
#endif

#define AppName "Cmfy Desk"
#define AppPublisher "Cmfy Desk developers"
#define ConsoleExe "cmfy-desk.exe"
#define WindowedExe "cmfy-desk-gui.exe"
; The file type that "Open with" offers for workflows and images. Versioned, as Windows asks of
; a ProgID, so that a later format can register beside it.
#define ProgId "CmfyDesk.Workflow.1"
; The app's folders, as platformdirs names them for "cmfy-desk" (gui/cmfy_desk/paths.py):
; %LOCALAPPDATA%\cmfy-desk holds the database and settings, Logs\ and Cache\thumbnails\, and
; outputs go to "Cmfy Desk" in the user's Pictures folder unless the settings name another.
#define DataFolderName "cmfy-desk"
#define ImagesFolderName "Cmfy Desk"

[Setup]
; The AppId identifies the installation for upgrades and the uninstaller: never change it.
AppId={{AFE419E1-F1AF-4D01-8B2E-7B3AA8A12BCC}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher={#AppPublisher}
VersionInfoVersion={#NumericVersion}
VersionInfoProductName={#AppName}
VersionInfoDescription={#AppName} Setup
DefaultDirName={autopf}\{#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=admin
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
WizardStyle=modern
SetupIconFile={#SetupIcon}
UninstallDisplayIcon={app}\{#WindowedExe}
UninstallDisplayName={#AppName}
ChangesAssociations=yes
Compression=lzma2
SolidCompression=yes
OutputBaseFilename=cmfy-desk-{#AppVersion}-windows-x64-setup

[CustomMessages]
OpenWithTask=Add {#AppName} to "Open with" for .json workflows and .png images
FileTypesGroup=File types:
WorkflowTypeName=ComfyUI workflow
RemoveDataTitle=Uninstall {#AppName}
RemoveDataIntro={#AppName} is being removed. Your job history, settings and images are kept unless you tick them below.
RemoveDataBox=Remove the database, settings, logs and thumbnails:
RemoveImagesBox=Remove the images in the default folder:
RemoveImagesNote=Images saved to another folder chosen in Settings are always kept.
RemoveDataContinue=Continue

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "openwith"; Description: "{cm:OpenWithTask}"; GroupDescription: "{cm:FileTypesGroup}"

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#WindowedExe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#WindowedExe}"; Tasks: desktopicon

[Registry]
; "Open with" only: the entries go under OpenWithProgids and never into the (Default) value of
; .json or .png, so the program the user chose as default for those files stays the default.
Root: HKA; Subkey: "Software\Classes\{#ProgId}"; ValueType: string; ValueName: ""; ValueData: "{cm:WorkflowTypeName}"; Flags: uninsdeletekey; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\{#ProgId}"; ValueType: string; ValueName: "FriendlyTypeName"; ValueData: "{cm:WorkflowTypeName}"; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\{#ProgId}\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#WindowedExe},0"; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\{#ProgId}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#WindowedExe}"" ""%1"""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\.json\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\.png\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue; Tasks: openwith
; The application's own entry: its name in "Open with" and the types it can open.
Root: HKA; Subkey: "Software\Classes\Applications\{#WindowedExe}"; ValueType: string; ValueName: "FriendlyAppName"; ValueData: "{#AppName}"; Flags: uninsdeletekey; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\{#WindowedExe}\SupportedTypes"; ValueType: string; ValueName: ".json"; ValueData: ""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\{#WindowedExe}\SupportedTypes"; ValueType: string; ValueName: ".png"; ValueData: ""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\{#WindowedExe}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#WindowedExe}"" ""%1"""; Tasks: openwith

[Run]
Filename: "{app}\{#WindowedExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[Code]
const
  CSIDL_MYPICTURES = $0027;

var
  RemoveData: Boolean;
  RemoveImages: Boolean;

// NOTE: the uninstaller runs elevated. When an administrator other than the signed-in user
// approves it, {localappdata} and the Pictures folder are that administrator's, so the
// signed-in user's data is never found or removed; it stays, which is the safe side.
function DataFolder: String;
begin
  Result := ExpandConstant('{localappdata}\{#DataFolderName}');
end;

function ImagesFolder: String;
var
  Pictures: String;
begin
  Pictures := GetShellFolderByCSIDL(CSIDL_MYPICTURES, False);
  if Pictures = '' then
    Result := ''
  else
    Result := AddBackslash(Pictures) + '{#ImagesFolderName}';
end;

function AddText(Form: TSetupForm; const Caption: String; const Left, Top: Integer): TNewStaticText;
begin
  Result := TNewStaticText.Create(Form);
  Result.Parent := Form;
  Result.Left := Left;
  Result.Top := Top;
  Result.Width := Form.ClientWidth - Left - ScaleX(12);
  Result.WordWrap := True;
  Result.Caption := Caption;
  Result.AdjustHeight;
end;

// Adds an unticked box, and the folder it removes below it; Top moves below both. A folder
// that does not exist gets a disabled box.
function AddFolderBox(Form: TSetupForm; const Caption, Folder: String;
  var Top: Integer): TNewCheckBox;
var
  Path: TNewStaticText;
begin
  Result := TNewCheckBox.Create(Form);
  Result.Parent := Form;
  Result.Left := ScaleX(12);
  Result.Top := Top;
  Result.Width := Form.ClientWidth - ScaleX(24);
  Result.Height := ScaleY(17);
  Result.Caption := Caption;
  Result.Checked := False;
  Result.Enabled := (Folder <> '') and DirExists(Folder);
  Path := AddText(Form, Folder, ScaleX(30), Top + Result.Height + ScaleY(2));
  Top := Path.Top + Path.Height + ScaleY(10);
end;

// Shows the question with both boxes unticked; closing the form keeps everything.
procedure AskWhatToRemove;
var
  Form: TSetupForm;
  Intro: TNewStaticText;
  DataBox, ImagesBox: TNewCheckBox;
  ContinueButton: TNewButton;
  Top: Integer;
begin
  // The size is fixed when the form is created; it fits two lines of text per folder.
  Form := CreateCustomForm(ScaleX(520), ScaleY(260), False, False);
  try
    Form.Caption := CustomMessage('RemoveDataTitle');
    Intro := AddText(Form, CustomMessage('RemoveDataIntro'), ScaleX(12), ScaleY(12));
    Top := Intro.Top + Intro.Height + ScaleY(14);
    DataBox := AddFolderBox(Form, CustomMessage('RemoveDataBox'), DataFolder, Top);
    ImagesBox := AddFolderBox(Form, CustomMessage('RemoveImagesBox'), ImagesFolder, Top);
    AddText(Form, CustomMessage('RemoveImagesNote'), ScaleX(12), Top);

    ContinueButton := TNewButton.Create(Form);
    ContinueButton.Parent := Form;
    ContinueButton.Caption := CustomMessage('RemoveDataContinue');
    ContinueButton.Width := Form.CalculateButtonWidth([ContinueButton.Caption]);
    ContinueButton.Height := ScaleY(23);
    ContinueButton.Left := Form.ClientWidth - ContinueButton.Width - ScaleX(12);
    ContinueButton.Top := Form.ClientHeight - ContinueButton.Height - ScaleY(12);
    ContinueButton.ModalResult := mrOk;
    ContinueButton.Default := True;

    if Form.ShowModal = mrOk then
    begin
      RemoveData := DataBox.Checked;
      RemoveImages := ImagesBox.Checked;
    end;
  finally
    Form.Free;
  end;
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  case CurUninstallStep of
    usUninstall:
      // A silent uninstall (/SILENT, /VERYSILENT) asks nothing and keeps the user's files.
      if not UninstallSilent then
        AskWhatToRemove;
    usPostUninstall:
      begin
        if RemoveData then
          DelTree(DataFolder, True, True, True);
        if RemoveImages and (ImagesFolder <> '') then
          DelTree(ImagesFolder, True, True, True);
      end;
  end;
end;
