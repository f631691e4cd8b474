<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1">
<context>
    <name>AboutBox</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="580"/>
        <source>About Cmfy Desk</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="584"/>
        <source>Cmfy Desk {version}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="587"/>
        <source>Runs ComfyUI workflows in batches on cmfy.cloud or the built-in sandbox.

Licence: GPL-3.0-or-later
Qt {qt} · PySide6 {pyside} · Python {python}</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>AboutDialog</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/about_dialog.py" line="91"/>
        <source>not found</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/about_dialog.py" line="125"/>
        <source>About Cmfy Desk</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/about_dialog.py" line="130"/>
        <source>Cmfy Desk {version}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/about_dialog.py" line="136"/>
        <source>Runs ComfyUI workflows in batches on cmfy.cloud or the built-in sandbox.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/about_dialog.py" line="141"/>
        <source>Licence: {licence}. Cmfy Desk is free software under the GNU General Public License, version 3 or any later version, and comes without any warranty.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/about_dialog.py" line="167"/>
        <source>Close</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/about_dialog.py" line="168"/>
        <source>Copy versions</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>BatchDialog</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_dialog.py" line="113"/>
        <source>New batch</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_dialog.py" line="160"/>
        <source>Same batch settings for all</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_dialog.py" line="163"/>
        <source>Count, seeds, prompts, CSV rows and grid apply to every workflow. Each workflow keeps its own parameter values.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_dialog.py" line="187"/>
        <source>Parameters</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_dialog.py" line="194"/>
        <source>Batch</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_dialog.py" line="219"/>
        <source>The connection this batch runs on</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_dialog.py" line="225"/>
        <source>Run on:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_dialog.py" line="250"/>
        <location filename="../../gui/cmfy_desk/ui/batch_dialog.py" line="675"/>
        <source>Queue</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_dialog.py" line="312"/>
        <source>Workflows, one batch each ({count}):</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_dialog.py" line="349"/>
        <source>{workflow} (the job of {file})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_dialog.py" line="353"/>
        <source>{name} · {format} · {nodes} nodes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_dialog.py" line="369"/>
        <source>API format</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_dialog.py" line="370"/>
        <source>editor format, converted</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_dialog.py" line="371"/>
        <source>from PNG metadata</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_dialog.py" line="372"/>
        <source>from WEBP metadata</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_dialog.py" line="373"/>
        <source>from JPEG metadata</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_dialog.py" line="374"/>
        <source>from a sidecar file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_dialog.py" line="483"/>
        <source>The batch settings are invalid.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_dialog.py" line="491"/>
        <source>about {cost:.0f}× cost (from the workflow&apos;s estimate)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_dialog.py" line="497"/>
        <source>checking…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_dialog.py" line="510"/>
        <source>{jobs} in all</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_dialog.py" line="512"/>
        <source>asks before queueing more than {limit}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_dialog.py" line="519"/>
        <source>1 job</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_dialog.py" line="520"/>
        <source>{count} jobs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_dialog.py" line="551"/>
        <source>estimated cost {cost:.1f}×</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_dialog.py" line="555"/>
        <source>Estimated GPU time, where 1× is one 512×512 image in 20 steps</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_dialog.py" line="572"/>
        <source>Fix: {fix}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_dialog.py" line="582"/>
        <source>Queue every workflow&apos;s batch</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_dialog.py" line="584"/>
        <location filename="../../gui/cmfy_desk/ui/batch_dialog.py" line="607"/>
        <source>Cannot queue: {reason}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_dialog.py" line="623"/>
        <source>Checking {jobs}…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_dialog.py" line="639"/>
        <source>Planning failed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_dialog.py" line="656"/>
        <source>Nothing was queued.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_dialog.py" line="667"/>
        <source>Queue a large batch?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_dialog.py" line="668"/>
        <source>Queue {jobs}?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_dialog.py" line="671"/>
        <source>This is more than {limit} jobs. Each job costs GPU time, so check the count, the prompt list and the grid before queueing.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>BatchInputs</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_inputs.py" line="78"/>
        <source>The first seed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_inputs.py" line="100"/>
        <source>The seed list is empty. Enter seeds separated by commas.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_inputs.py" line="106"/>
        <source>Seed &apos;{text}&apos;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_inputs.py" line="119"/>
        <source>not a number.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_inputs.py" line="130"/>
        <source>The {axis} axis has values but no parameter. Choose one.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_inputs.py" line="136"/>
        <source>The {axis} axis &apos;{key}&apos; has no values. List them separated by commas.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_inputs.py" line="159"/>
        <source>Jobs for each prompt, CSV row and grid cell</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_inputs.py" line="165"/>
        <source>Random</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_inputs.py" line="166"/>
        <source>Increment</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_inputs.py" line="167"/>
        <source>Fixed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_inputs.py" line="168"/>
        <source>List</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_inputs.py" line="182"/>
        <source>e.g. 1, 2, 42 (one job each)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_inputs.py" line="192"/>
        <source>One prompt per line, one job each. Empty: the workflow&apos;s prompt.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_inputs.py" line="201"/>
        <source>Load from file…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_inputs.py" line="216"/>
        <source>Choose…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_inputs.py" line="219"/>
        <source>Clear</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_inputs.py" line="238"/>
        <source>Count:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_inputs.py" line="239"/>
        <source>Seeds:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_inputs.py" line="240"/>
        <source>Prompts:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_inputs.py" line="241"/>
        <source>CSV file:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_inputs.py" line="242"/>
        <source>Grid x:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_inputs.py" line="243"/>
        <source>Grid y:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_inputs.py" line="256"/>
        <source>parameter</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_inputs.py" line="258"/>
        <source>A parameter, a shortcut such as steps or cfg, or NODE.INPUT</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_inputs.py" line="265"/>
        <source>values, comma-separated: 20, 30, 40</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_inputs.py" line="380"/>
        <source>Load prompts</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_inputs.py" line="382"/>
        <source>Text files (*.txt)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_inputs.py" line="383"/>
        <location filename="../../gui/cmfy_desk/ui/batch_inputs.py" line="393"/>
        <source>All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_inputs.py" line="390"/>
        <source>Choose a CSV file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_inputs.py" line="392"/>
        <source>CSV files (*.csv *.tsv *.txt)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_inputs.py" line="418"/>
        <source>none (each column names a parameter)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_inputs.py" line="426"/>
        <source>{name}: {rows} rows · columns {columns}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_inputs.py" line="435"/>
        <source>{count} prompts</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_inputs.py" line="447"/>
        <source>a new random seed per job</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/batch_inputs.py" line="449"/>
        <source>first seed; empty: the workflow&apos;s own seed</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Compare</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/compare.py" line="210"/>
        <source>Prompt</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/compare.py" line="211"/>
        <source>Negative</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/compare.py" line="217"/>
        <source>Same parameters as the others</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/compare.py" line="267"/>
        <source>Workflow</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/compare.py" line="268"/>
        <source>Seed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/compare.py" line="269"/>
        <source>Steps</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/compare.py" line="271"/>
        <source>CFG</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/compare.py" line="274"/>
        <source>Sampler</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/compare.py" line="275"/>
        <source>Size</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/compare.py" line="277"/>
        <source>Models</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>CompareWindow</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/compare.py" line="83"/>
        <source>Compare {count} images — Cmfy Desk</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/compare.py" line="104"/>
        <source>Fit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/compare.py" line="107"/>
        <source>100 %</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/compare.py" line="110"/>
        <source>Zoom and pan in any image: the others follow.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ConnectionsDialog</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/connections_dialog.py" line="65"/>
        <source>Connections</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/connections_dialog.py" line="78"/>
        <source>Add</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/connections_dialog.py" line="80"/>
        <source>Remove</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/connections_dialog.py" line="91"/>
        <source>ComfyUI server</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/connections_dialog.py" line="92"/>
        <source>cmfy.cloud account</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/connections_dialog.py" line="93"/>
        <source>Sandbox (built-in)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/connections_dialog.py" line="100"/>
        <source>only behind an auth proxy, e.g. Authorization</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/connections_dialog.py" line="106"/>
        <source>Webhooks when a tunnel is set, else polling</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/connections_dialog.py" line="107"/>
        <source>Webhooks through my tunnel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/connections_dialog.py" line="108"/>
        <source>Polling</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/connections_dialog.py" line="115"/>
        <source>Prompts kept waiting on the server besides the one it runs, so the next one starts at once</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/connections_dialog.py" line="119"/>
        <source>Test connection</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/connections_dialog.py" line="126"/>
        <source>Name:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/connections_dialog.py" line="127"/>
        <source>Kind:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/connections_dialog.py" line="128"/>
        <source>Server address:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/connections_dialog.py" line="129"/>
        <source>Auth header:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/connections_dialog.py" line="130"/>
        <source>API key or header value:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/connections_dialog.py" line="131"/>
        <source>Plan:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/connections_dialog.py" line="132"/>
        <source>Job status:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/connections_dialog.py" line="133"/>
        <source>Public base URL:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/connections_dialog.py" line="134"/>
        <source>Prompts waiting:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/connections_dialog.py" line="145"/>
        <source>The default connection is set in Settings. Connections listed here run at the same time; choose one for each batch in the batch dialog.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/connections_dialog.py" line="192"/>
        <source>stored; type a new one to replace it</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/connections_dialog.py" line="271"/>
        <source>Remove connection</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/connections_dialog.py" line="273"/>
        <source>Remove the connection {name}? Its jobs stay in the history; queued ones wait until a connection of that name exists again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/connections_dialog.py" line="306"/>
        <source>The sk_live_… key from the cmfy.cloud portal</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/connections_dialog.py" line="308"/>
        <source>The value of the auth header, kept in the keyring</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/connections_dialog.py" line="320"/>
        <source>Connecting…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/connections_dialog.py" line="322"/>
        <source>Testing</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/connections_dialog.py" line="338"/>
        <source>{url} did not answer as a ComfyUI server: {error}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/connections_dialog.py" line="356"/>
        <source>Saving {path} failed: {error}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/connections_dialog.py" line="381"/>
        <source>ComfyUI {version}, Python {python}, devices: {devices}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/connections_dialog.py" line="386"/>
        <source>none listed</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>CrashDialog</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/crash_dialog.py" line="90"/>
        <source>Cmfy Desk ran into an error</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/crash_dialog.py" line="99"/>
        <source>An unexpected error occurred, and the log file records it. You can continue working, but if Cmfy Desk misbehaves, quit and start it again: queued jobs stay in the queue.

To report the problem, copy the report below. API keys are removed from it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/crash_dialog.py" line="119"/>
        <source>Copy report</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/crash_dialog.py" line="120"/>
        <source>Open log folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/crash_dialog.py" line="121"/>
        <source>Quit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/crash_dialog.py" line="122"/>
        <source>Continue</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/crash_dialog.py" line="143"/>
        <source>The report is copied to the clipboard.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/crash_dialog.py" line="148"/>
        <source>1 more error occurred since; the log file records it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/crash_dialog.py" line="150"/>
        <source>{count} more errors occurred since; the log file records them.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/crash_dialog.py" line="160"/>
        <source>The log folder could not be opened. It is {folder}</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>FailuresDialog</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/failures_dialog.py" line="41"/>
        <source>Transient</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/failures_dialog.py" line="42"/>
        <source>Failed on the server</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/failures_dialog.py" line="43"/>
        <source>Lost</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/failures_dialog.py" line="44"/>
        <source>Rejected key</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/failures_dialog.py" line="45"/>
        <source>Invalid workflow</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/failures_dialog.py" line="46"/>
        <source>Cancelled</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/failures_dialog.py" line="54"/>
        <source>Network errors, timeouts, server errors and failed downloads. A retry usually works.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/failures_dialog.py" line="58"/>
        <source>The workflow ran and failed on the GPU node. Check the error before retrying.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/failures_dialog.py" line="62"/>
        <source>The service no longer knows these jobs. A retry sends them again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/failures_dialog.py" line="65"/>
        <source>The service rejected the API key or the account. Fix it in Settings first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/failures_dialog.py" line="69"/>
        <source>The service rejected the workflow. A retry fails again unless the workflow is fixed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/failures_dialog.py" line="80"/>
        <source>1 job</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/failures_dialog.py" line="81"/>
        <source>{count} jobs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/failures_dialog.py" line="102"/>
        <source>Failed jobs of {name}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/failures_dialog.py" line="108"/>
        <source>Failed jobs of batch {name}, by cause:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/failures_dialog.py" line="115"/>
        <source>No failed jobs left in this batch.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/failures_dialog.py" line="120"/>
        <source>Retried jobs go back to the queue with a new submission. Retrying also resumes the batch when it is paused.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/failures_dialog.py" line="129"/>
        <source>Retry all</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/failures_dialog.py" line="181"/>
        <source>(no error message)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/failures_dialog.py" line="197"/>
        <source>Retry these</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/failures_dialog.py" line="198"/>
        <source>Queue the {count} again</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>FilterPanel</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_search.py" line="457"/>
        <source>Favourites only</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_search.py" line="460"/>
        <source>Any rating</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_search.py" line="463"/>
        <source>1 star or more</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_search.py" line="465"/>
        <source>{count} stars or more</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_search.py" line="469"/>
        <source>All batches</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_search.py" line="470"/>
        <source>All connections</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_search.py" line="471"/>
        <source>All days</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_search.py" line="479"/>
        <source>Batch</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_search.py" line="480"/>
        <source>Connection</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_search.py" line="481"/>
        <source>Day</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_search.py" line="484"/>
        <source>Folders</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>FindingRow</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/preflight_panel.py" line="54"/>
        <source>Fix: {fix}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/preflight_panel.py" line="73"/>
        <source>Error: the batch cannot be queued</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/preflight_panel.py" line="74"/>
        <source>Warning</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/preflight_panel.py" line="75"/>
        <source>Note</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>FolderIndexing</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/folder_indexing.py" line="76"/>
        <source>{path} is not a folder. Choose an existing folder.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/folder_indexing.py" line="82"/>
        <source>Adding the folder {path} failed: {error}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/folder_indexing.py" line="93"/>
        <source>Remove folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/folder_indexing.py" line="94"/>
        <source>Remove {path} from the gallery?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/folder_indexing.py" line="97"/>
        <source>The records of its images, with their ratings and tags, are removed. The files stay on disk.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/folder_indexing.py" line="101"/>
        <source>Remove</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/folder_indexing.py" line="116"/>
        <source>Removing the folder {path} failed: {error}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/folder_indexing.py" line="128"/>
        <source>Changing the folder {path} failed: {error}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/folder_indexing.py" line="171"/>
        <source>The scan of {path} was cancelled.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/folder_indexing.py" line="177"/>
        <source>Scanning {path} failed: {error}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/folder_indexing.py" line="193"/>
        <source>{folder}: {indexed} images indexed, {unchanged} unchanged, {failed} damaged or unreadable, {missing} missing.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/folder_indexing.py" line="205"/>
        <source>The scan was cancelled before the end.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>FolderList</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_search.py" line="629"/>
        <source>Checked folders are rescanned every minute</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_search.py" line="632"/>
        <source>Add folder…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_search.py" line="633"/>
        <source>Index the images of a folder and its subfolders</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_search.py" line="635"/>
        <source>Remove</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_search.py" line="637"/>
        <source>Remove the folder&apos;s images from the gallery; the files stay on disk</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_search.py" line="642"/>
        <source>Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_search.py" line="682"/>
        <source>Add a folder of images to the gallery</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_search.py" line="702"/>
        <source>%v of %m images</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Gallery</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_search.py" line="127"/>
        <source>1 image</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_search.py" line="128"/>
        <source>{count} images</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>GalleryModel</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery.py" line="499"/>
        <source>Removed from the gallery</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery.py" line="539"/>
        <source>seed {seed}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery.py" line="552"/>
        <source>Seed: {seed}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery.py" line="554"/>
        <source>Steps: {steps}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery.py" line="556"/>
        <source>CFG: {cfg:g}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery.py" line="558"/>
        <source>Sampler: {sampler}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery.py" line="563"/>
        <source>Size: {w} × {h}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery.py" line="565"/>
        <source>Models: {models}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery.py" line="568"/>
        <source>Batch {batch} on {connection}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery.py" line="573"/>
        <source>Tags: {tags}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery.py" line="645"/>
        <source>Damaged file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery.py" line="646"/>
        <source>Unreadable file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery.py" line="647"/>
        <source>Missing file</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>GalleryPanel</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery.py" line="866"/>
        <source>Search images</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery.py" line="939"/>
        <source>No images match the search and filters.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery.py" line="942"/>
        <source>Images appear here as jobs finish. Double-click one to view it.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>GalleryView</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery.py" line="751"/>
        <source>Images appear here as jobs finish. Double-click one to view it.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HistoryDetails</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_details.py" line="203"/>
        <source>Status:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_details.py" line="204"/>
        <source>Jobs:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_details.py" line="205"/>
        <source>Created:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_details.py" line="206"/>
        <source>Submitted:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_details.py" line="207"/>
        <source>Started:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_details.py" line="208"/>
        <source>Finished:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_details.py" line="209"/>
        <source>Run time:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_details.py" line="210"/>
        <source>Total time:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_details.py" line="211"/>
        <source>Attempts:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_details.py" line="212"/>
        <source>Workflow:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_details.py" line="213"/>
        <source>Connection:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_details.py" line="214"/>
        <source>Folder:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_details.py" line="222"/>
        <source>Error</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_details.py" line="251"/>
        <source>Select a day, batch or job to see its details.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_details.py" line="268"/>
        <source>Select a batch or a job to see its outputs.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_details.py" line="312"/>
        <source>No outputs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_details.py" line="315"/>
        <source>Outputs: the first {shown} of {total}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_details.py" line="320"/>
        <source>Outputs: {total}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_details.py" line="350"/>
        <source>{total}: {succeeded} succeeded, {failed} failed, {cancelled} cancelled, {other} partial or lost</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HistoryModel</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_model.py" line="79"/>
        <source>Day, batch or job</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_model.py" line="80"/>
        <source>Days hold the batches created on them, newest first</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_model.py" line="82"/>
        <source>Status</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_model.py" line="83"/>
        <source>Jobs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_model.py" line="88"/>
        <source>✓</source>
        <comment>header of the succeeded jobs&apos; count</comment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_model.py" line="89"/>
        <source>Succeeded jobs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_model.py" line="92"/>
        <source>✗</source>
        <comment>header of the failed jobs&apos; count</comment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_model.py" line="93"/>
        <source>Failed jobs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_model.py" line="96"/>
        <source>⊘</source>
        <comment>header of the cancelled jobs&apos; count</comment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_model.py" line="97"/>
        <source>Cancelled jobs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_model.py" line="100"/>
        <source>Other</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_model.py" line="101"/>
        <source>Partial and lost jobs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_model.py" line="104"/>
        <source>Run time</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_model.py" line="105"/>
        <source>A job&apos;s run time as the service reports it; for a batch, the mean of its jobs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_model.py" line="111"/>
        <source>Total time</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_model.py" line="112"/>
        <source>From queueing to the end of the job, or of the batch&apos;s last job</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_model.py" line="116"/>
        <source>Outputs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_model.py" line="117"/>
        <source>Error</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_model.py" line="126"/>
        <source>Today, {day}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_model.py" line="128"/>
        <source>Yesterday, {day}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_model.py" line="136"/>
        <source>Finished</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_model.py" line="137"/>
        <source>{unfinished} of {total} unfinished</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_model.py" line="144"/>
        <source>Job {id}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_model.py" line="145"/>
        <source>Job {id} · seed {seed}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_model.py" line="376"/>
        <source>{name}
Workflow: {workflow}
Connection: {connection}
Folder: {folder}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_model.py" line="532"/>
        <source>1 batch</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_model.py" line="533"/>
        <source>{count} batches</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HistoryPanel</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history.py" line="121"/>
        <location filename="../../gui/cmfy_desk/ui/history.py" line="141"/>
        <source>Open folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history.py" line="122"/>
        <source>Open the batch&apos;s output folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history.py" line="123"/>
        <location filename="../../gui/cmfy_desk/ui/history.py" line="142"/>
        <source>Show in gallery</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history.py" line="124"/>
        <source>Show the batch&apos;s images in the Gallery tab</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history.py" line="125"/>
        <location filename="../../gui/cmfy_desk/ui/history.py" line="146"/>
        <source>Remove from history…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history.py" line="128"/>
        <source>Remove the selected batch, or every finished batch of the selected day, with its jobs (Del). Images stay on disk and in the gallery.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history.py" line="220"/>
        <location filename="../../gui/cmfy_desk/ui/history.py" line="283"/>
        <source>The history cannot be read: {error}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history.py" line="225"/>
        <source>Batches appear here, by day, once they are queued.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history.py" line="346"/>
        <source>The details cannot be read: {error}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history.py" line="353"/>
        <source>{count} × {error}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history.py" line="410"/>
        <source>The folder {folder} does not exist (any more).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history.py" line="451"/>
        <source>Batch &apos;{name}&apos; still has {count} unfinished jobs. Wait until they end, or cancel them, to remove it from the history.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history.py" line="459"/>
        <source>Remove batch &apos;{name}&apos; and its {jobs} jobs from the history?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history.py" line="470"/>
        <source>No batch of {day} has finished, so none can be removed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history.py" line="478"/>
        <source>Remove the {batches} finished batches of {day} and their {jobs} jobs from the history?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history.py" line="492"/>
        <source>Remove from history</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history.py" line="494"/>
        <source>Images stay on disk and in the gallery.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history.py" line="495"/>
        <source>Remove</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history.py" line="518"/>
        <source>Removing from the history failed: {error}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history.py" line="527"/>
        <source>{count} batches were kept because a job of theirs was queued again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history.py" line="578"/>
        <source>Pruning the history failed: {error}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_details.py" line="395"/>
        <source>{duration} per job on average</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HistoryRerun</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_rerun.py" line="128"/>
        <source>Batch &apos;{name}&apos; is no longer in the history, so it cannot be run again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_rerun.py" line="187"/>
        <source>Job {job} of batch &apos;{name}&apos; is no longer in the history, so it cannot be run again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_rerun.py" line="192"/>
        <source>Batch &apos;{name}&apos; has no failed, cancelled, partial or lost jobs. Nothing was queued.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_rerun.py" line="196"/>
        <source>Batch &apos;{name}&apos; has no jobs. Nothing was queued.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_rerun.py" line="209"/>
        <source>Batch &apos;{name}&apos; cannot be run again: job {job} has no valid stored workflow ({reason}). Records from older versions of Cmfy Desk may lack it. Nothing was queued. Load the workflow file {path} and queue it from the batch dialog instead.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HistoryRerunActions</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_actions.py" line="34"/>
        <source>Run again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_actions.py" line="40"/>
        <source>Queue the selected batch, or job, again as a new batch with the same prompts and seeds ({key})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_actions.py" line="44"/>
        <source>Edit and run…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_actions.py" line="46"/>
        <source>Open the batch dialog with the workflow, seeds and prompts of the selection</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_actions.py" line="48"/>
        <source>Run failed jobs again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_actions.py" line="51"/>
        <source>Queue the failed, cancelled, partial and lost jobs of the selected batch again as a new batch</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HistoryTree</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/history_details.py" line="167"/>
        <source>Ctrl+R</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ImageActions</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_actions.py" line="103"/>
        <source>No rating</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_actions.py" line="105"/>
        <source>1 star</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_actions.py" line="106"/>
        <source>{count} stars</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_actions.py" line="149"/>
        <source>Open</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_actions.py" line="151"/>
        <source>Open containing folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_actions.py" line="154"/>
        <location filename="../../gui/cmfy_desk/ui/gallery_actions.py" line="248"/>
        <source>Favourite</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_actions.py" line="165"/>
        <source>Tags…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_actions.py" line="168"/>
        <source>Copy</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_actions.py" line="170"/>
        <source>Export…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_actions.py" line="171"/>
        <source>Move to Trash…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_actions.py" line="176"/>
        <source>Compare</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_actions.py" line="204"/>
        <source>Rating</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_actions.py" line="248"/>
        <source>Remove from favourites</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_actions.py" line="281"/>
        <source>Saving the change to {count} images failed: {error}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_actions.py" line="352"/>
        <source>Export {images} to a folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_actions.py" line="369"/>
        <source>Exported {images} to {folder}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_actions.py" line="376"/>
        <source>Exporting failed for {images}: {errors}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_actions.py" line="390"/>
        <source>Move to Trash</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_actions.py" line="392"/>
        <source>Move {images} to the trash?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_actions.py" line="396"/>
        <source>The files can be restored from the trash. Keep their records in the gallery (marked missing, with rating and tags), or remove the records as well?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_actions.py" line="400"/>
        <source>Keep records</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_actions.py" line="401"/>
        <source>Remove records</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_actions.py" line="452"/>
        <source>Moving {images} to the trash failed: {paths}. Check that the files can be written and that the drive has a trash folder.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_actions.py" line="479"/>
        <source>{name} was not made by a job of Cmfy Desk, so it cannot run again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_actions.py" line="493"/>
        <source>Select 2 or 4 images made by jobs to compare them.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ImageCanvas</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_canvas.py" line="112"/>
        <source>{name} is too large to show: {width} × {height} pixels take {needed} MiB, more than the {limit} MiB the viewer allows. Open it in an image editor.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_canvas.py" line="150"/>
        <source>Cannot show {name}: {reason}. The file may have been moved, deleted or damaged.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_canvas.py" line="299"/>
        <source>Fit ({percent} %)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_canvas.py" line="302"/>
        <source>{percent} %</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_canvas.py" line="321"/>
        <location filename="../../gui/cmfy_desk/ui/image_canvas.py" line="333"/>
        <source>Loading…</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ImageDetails</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="216"/>
        <source>{seconds:.1f} s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="219"/>
        <source>{minutes} min {seconds:02d} s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="223"/>
        <source>{hours} h {minutes:02d} min</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ImageViewer</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/viewer.py" line="108"/>
        <source>Previous image</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/viewer.py" line="110"/>
        <source>Previous image (Left or PageUp)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/viewer.py" line="112"/>
        <source>Next image</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/viewer.py" line="114"/>
        <source>Next image (Right or PageDown)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/viewer.py" line="116"/>
        <source>Details</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/viewer.py" line="120"/>
        <source>Show or hide how the image was made (I)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/viewer.py" line="152"/>
        <source>Fit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/viewer.py" line="155"/>
        <source>100 %</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/viewer.py" line="208"/>
        <source>{name} — Cmfy Desk</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/viewer.py" line="248"/>
        <source>This is the last image.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/viewer.py" line="250"/>
        <source>This is the first image.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/viewer.py" line="256"/>
        <source>Output {id} is no longer in the library.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/viewer.py" line="167"/>
        <source>Open containing folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/viewer.py" line="163"/>
        <source>Copy path</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>JobDetailsPanel</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="148"/>
        <source>Select a job in the table to see its details, progress and preview.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="195"/>
        <source>Queue this job again as a new submission</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="212"/>
        <source>Workflow:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="213"/>
        <source>Batch:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="214"/>
        <source>Connection:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="215"/>
        <source>Seed:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="216"/>
        <source>Parameters:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="217"/>
        <source>Submitted:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="218"/>
        <source>Started:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="219"/>
        <source>Finished:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="220"/>
        <source>Execution time:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="221"/>
        <source>Attempts:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="226"/>
        <source>Remote id:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="226"/>
        <source>The job&apos;s id on the server</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="229"/>
        <source>Request id:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="230"/>
        <source>The id of the request that failed, for the service&apos;s support</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="232"/>
        <source>Error code:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="232"/>
        <source>The code of the last error</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="243"/>
        <source>Error details</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="245"/>
        <source>Copy</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="246"/>
        <source>Copy the error details to the clipboard</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="290"/>
        <source>Job {id}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="355"/>
        <source>Queueing job {id} again failed: {error}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="381"/>
        <source>Resubmit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="381"/>
        <source>Retry</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="388"/>
        <source>Not queued yet.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="391"/>
        <source>Waiting in the local queue, because its batch is paused. Resume the batch (Queue → Batch → Pause batch) to send it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="395"/>
        <source>Waiting in the local queue for a free slot on the server.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="397"/>
        <source>Being sent to the server.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="400"/>
        <source>Accepted by the server, at position {position} in its queue.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="403"/>
        <source>Accepted by the server, waiting for it to start.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="405"/>
        <source>Running on the server.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="407"/>
        <source>Finished on the server. Its outputs are being downloaded.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="409"/>
        <source>Finished. Its outputs are saved.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="411"/>
        <source>Some outputs of the job are missing.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="413"/>
        <source>The job failed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="415"/>
        <source>Cancelled. Retry queues it again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="418"/>
        <source>The server no longer knows this job (it restarted or forgot it). Resubmit it to run it again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="451"/>
        <source>{seconds:.1f} s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="453"/>
        <source>{minutes} min {seconds:02d} s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_details.py" line="471"/>
        <source>No step progress reported.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>JobTableModel</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="133"/>
        <source>Workflow</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="134"/>
        <source>Batch</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="135"/>
        <source>Models</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="136"/>
        <source>Seed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="137"/>
        <source>Status</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="138"/>
        <source>Priority</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="139"/>
        <source>Queue position</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="140"/>
        <source>Progress</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="141"/>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="183"/>
        <source>Submitted</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="142"/>
        <source>Started</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="143"/>
        <source>Finished</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="144"/>
        <source>Error</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="152"/>
        <source>Progress by stage (queued, submitted, running, downloading, done). While a job runs on a server that reports its steps, such as a ComfyUI server, the bar shows the share of the workflow done and the current node. Failed, cancelled and lost jobs show no bar.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="160"/>
        <source>Queued jobs of higher priority are sent first: High is 10, Normal 0, Low -10.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="165"/>
        <source>The model files a job loads. Jobs with the same colour use the same models and are sent one after another, so that they run on nodes that already hold them.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="171"/>
        <source>The job&apos;s place in the service&apos;s own queue, while it waits there.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="180"/>
        <source>Draft</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="181"/>
        <source>Queued</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="182"/>
        <source>Submitting</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="184"/>
        <source>Running</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="185"/>
        <source>Downloading</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="186"/>
        <source>Succeeded</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="187"/>
        <source>Partial</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="188"/>
        <source>Failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="189"/>
        <source>Cancelled</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="190"/>
        <source>Lost</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="199"/>
        <source>node {id}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="212"/>
        <source>Node {id} ({node}), step {value} of {maximum}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="216"/>
        <source>Node {id} ({node}).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="217"/>
        <source>{done} of {total} nodes done, {percent} % of the workflow.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="655"/>
        <source>#{number} {name}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="657"/>
        <source>{name} (paused)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="665"/>
        <source>Queued (paused)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="693"/>
        <source>Job {id}: {status}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="697"/>
        <source>Batch: {name}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="701"/>
        <source>The batch is paused: its queued jobs wait until you resume it (Queue → Pause batch).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="705"/>
        <source>Priority: {priority}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="706"/>
        <source>Attempts: {count}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="708"/>
        <source>Remote id: {id}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="710"/>
        <source>Error code: {code}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="712"/>
        <source>Request id: {id}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="714"/>
        <source>Error: {message}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="720"/>
        <source>The workflow loads no model files.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/job_model.py" line="721"/>
        <source>Model files:</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="153"/>
        <source>Demo — Cmfy Desk</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="153"/>
        <source>Cmfy Desk</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="205"/>
        <source>Pruning the history</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="210"/>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="472"/>
        <source>Cannot connect: {error}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="216"/>
        <source>No API key for cmfy.cloud is set, so no jobs can run. Open File → Settings… and enter the key, or choose the built-in sandbox there.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="277"/>
        <source>Gallery</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="278"/>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="339"/>
        <source>History</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="289"/>
        <source>Notices</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="304"/>
        <source>Add workflows…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="306"/>
        <source>Add folder…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="308"/>
        <source>Model library…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="311"/>
        <source>Add sample workflows</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="314"/>
        <source>Settings…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="314"/>
        <source>Ctrl+,</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="317"/>
        <source>Connections…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="317"/>
        <source>Ctrl+Shift+K</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="319"/>
        <source>Quit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="319"/>
        <source>Ctrl+Q</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="321"/>
        <source>Cancel selected</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="324"/>
        <source>Retry selected</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="324"/>
        <source>Ctrl+R</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="326"/>
        <source>Pause queue</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="329"/>
        <source>Open output folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="331"/>
        <source>About Cmfy Desk</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="333"/>
        <source>Keyboard shortcuts</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="334"/>
        <source>Ctrl+/</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="337"/>
        <source>Open log folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="339"/>
        <source>Ctrl+H</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="342"/>
        <source>Metrics…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="342"/>
        <source>Ctrl+M</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="347"/>
        <source>&amp;File</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="359"/>
        <source>&amp;Queue</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="372"/>
        <source>&amp;View</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="377"/>
        <source>&amp;Tools</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="379"/>
        <source>&amp;Help</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="500"/>
        <source>{what} failed: {error}. Details are in the log file.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="513"/>
        <source>Connecting…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="513"/>
        <source>Not connected</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="519"/>
        <source>Sandbox (built-in)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="525"/>
        <source>{running}/{limit} running · {requests}/{rate} req/min</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="533"/>
        <source>Paused</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="584"/>
        <source>Add workflows</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="588"/>
        <source>Workflows and pictures (*.json *.png *.webp *.jpg *.jpeg)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="589"/>
        <source>All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="600"/>
        <source>Add a folder of workflows</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="635"/>
        <source>Cancelling jobs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="727"/>
        <source>Select 2 or 4 images to compare, not {count}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="784"/>
        <source>The webhook receiver is not running. Choose webhooks, save the settings, and test again once connected.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="812"/>
        <source>The connections are saved; demo mode uses the built-in sandbox only.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="818"/>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="835"/>
        <source>Connecting</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="855"/>
        <source>The queue settings are saved. They apply at the next start of Cmfy Desk, because restarting the queue now would lose the jobs running on the built-in sandbox.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/main_window.py" line="862"/>
        <source>Applying queue settings</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>MetadataPanel</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="263"/>
        <source>Copy prompt</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="265"/>
        <source>Copy seed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="267"/>
        <source>Copy parameters</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="269"/>
        <source>Copy the prompts and settings in the text format other image tools read</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="286"/>
        <source>Prompt:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="287"/>
        <source>Negative prompt:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="288"/>
        <source>Seed:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="289"/>
        <source>Steps:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="290"/>
        <source>CFG:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="291"/>
        <source>Sampler:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="292"/>
        <source>Size:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="293"/>
        <source>Models:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="294"/>
        <source>Batch values:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="295"/>
        <source>Batch:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="296"/>
        <source>Connection:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="297"/>
        <source>Created:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="298"/>
        <source>Queued:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="299"/>
        <source>Run:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="300"/>
        <source>GPU time:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="301"/>
        <source>Total:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="302"/>
        <source>Rating:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="303"/>
        <source>Tags:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="304"/>
        <source>File:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="316"/>
        <source>From queueing the job to its start</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="317"/>
        <source>From its start to its end, download included</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="318"/>
        <source>The GPU time the server reported</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="320"/>
        <source>The values the batch set for this job, such as a CSV row&apos;s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="329"/>
        <source>Copy graph</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="330"/>
        <source>Copy the graph as API-format JSON</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="376"/>
        <source>Output {id} (its job is no longer recorded)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="411"/>
        <source>Graph ({count} nodes)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="455"/>
        <source>{width} × {height} px, {kb:.0f} KB</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="458"/>
        <source>{kb:.0f} KB</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="462"/>
        <source>{name} (batch {id}, job {position} of {count})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="468"/>
        <source>batch {id}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_details.py" line="474"/>
        <source>, favourite</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>MetricsDialog</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_dialog.py" line="99"/>
        <source>Metrics</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_dialog.py" line="138"/>
        <source>All time</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_dialog.py" line="138"/>
        <source>Last hour</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_dialog.py" line="138"/>
        <source>Last 24 hours</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_dialog.py" line="143"/>
        <source>Refresh</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_dialog.py" line="146"/>
        <source>Show:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_dialog.py" line="148"/>
        <source>Time:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_dialog.py" line="153"/>
        <source>Figure</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_dialog.py" line="153"/>
        <source>Value</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_dialog.py" line="160"/>
        <location filename="../../gui/cmfy_desk/ui/metrics_dialog.py" line="416"/>
        <source>Queue and run time per minute (mean)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_dialog.py" line="162"/>
        <source>Total time of finished jobs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_dialog.py" line="168"/>
        <source>Warnings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_dialog.py" line="184"/>
        <source>Overview</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_dialog.py" line="185"/>
        <source>Production checklist</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_dialog.py" line="187"/>
        <source>Export metrics CSV…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_dialog.py" line="189"/>
        <source>One row per connection and per batch, over the chosen time</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_dialog.py" line="192"/>
        <source>Export job history CSV…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_dialog.py" line="194"/>
        <source>One row per job shown, with every time in ISO 8601 (UTC)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_dialog.py" line="241"/>
        <source>All connections</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_dialog.py" line="251"/>
        <source>Connection: {name}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_dialog.py" line="255"/>
        <source>Batch: {name} ({connection})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_dialog.py" line="322"/>
        <source>Not connected: the figures come from the database, which opens with the connection.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_dialog.py" line="367"/>
        <source>Reading the database failed: {error}. Details are in the log file.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_dialog.py" line="399"/>
        <source>No jobs in this view.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_dialog.py" line="407"/>
        <source>queue</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_dialog.py" line="408"/>
        <source>run</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_dialog.py" line="412"/>
        <source>Queue and run time per {width} (mean)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_dialog.py" line="417"/>
        <location filename="../../gui/cmfy_desk/ui/metrics_dialog.py" line="420"/>
        <source>No finished jobs in this view</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_dialog.py" line="484"/>
        <source>Export metrics</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_dialog.py" line="491"/>
        <source>Export job history</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_dialog.py" line="499"/>
        <source>CSV files (*.csv)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_dialog.py" line="499"/>
        <source>All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_dialog.py" line="549"/>
        <source>Not connected: nothing to export.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_dialog.py" line="523"/>
        <source>Saved {rows} rows to {path}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_dialog.py" line="537"/>
        <source>Saved {rows} jobs to {path}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_dialog.py" line="560"/>
        <source>Writing {path} failed: {error}. Choose another folder.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_text.py" line="32"/>
        <source>Check model URLs…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_text.py" line="33"/>
        <source>Queue settings…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/metrics_text.py" line="34"/>
        <source>Connection settings…</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>MetricsWording</name>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="84"/>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="94"/>
        <source>{seconds} s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="87"/>
        <source>{minutes} min {seconds} s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="89"/>
        <source>{hours} h {minutes} min</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="95"/>
        <source>{minutes} min</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="104"/>
        <source>{count} succeeded</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="105"/>
        <source>{count} failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="106"/>
        <source>{count} lost</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="107"/>
        <source>{count} partial</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="108"/>
        <source>{count} cancelled</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="109"/>
        <source>{count} queued</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="110"/>
        <source>{count} submitting</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="111"/>
        <source>{count} waiting on the server</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="112"/>
        <source>{count} running</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="113"/>
        <source>{count} downloading</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="114"/>
        <source>{count} drafts</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="125"/>
        <source>Workflow rejected</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="126"/>
        <source>Network or download error</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="127"/>
        <source>Failed on the GPU node</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="128"/>
        <source>Lost by the service</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="129"/>
        <source>API key rejected</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="130"/>
        <source>Cancelled</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="136"/>
        <source>Duration</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="136"/>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="170"/>
        <source>Jobs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="136"/>
        <source>Mean</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="136"/>
        <source>Max</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="141"/>
        <source>Queue time</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="142"/>
        <source>Execution time</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="143"/>
        <source>Total time</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="149"/>
        <source>From submission to start, by the service&apos;s clock where it reports one</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="150"/>
        <source>The service&apos;s GPU time where reported, else from start to completion</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="151"/>
        <source>From submission until the outputs are saved</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="176"/>
        <source>Throughput</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="185"/>
        <source>Cache hit rate</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="195"/>
        <source>429 responses</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="204"/>
        <source>Requests</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="206"/>
        <source>Requests sent to the server since it started</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="215"/>
        <source>Jobs that ended without success, by cause</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="224"/>
        <source>{count} jobs/min</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="227"/>
        <source>Not enough data</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="231"/>
        <source>No job in this view was submitted.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="234"/>
        <source>Succeeded jobs per minute over {window}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="236"/>
        <source>The jobs span {window}. Throughput needs at least {minimum} to be a rate.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="244"/>
        <source>{rate} ({hits} hits, {misses} misses, inferred)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="250"/>
        <source>{rate} ({hits} hits, {misses} misses of model URLs, counted by the sandbox)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="252"/>
        <source>{rate} ({hits} hits, {misses} misses)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="260"/>
        <source>Counted by the sandbox since it started: one lookup per model URL of each started job.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="265"/>
        <source>Inferred from start delays, the time a job spent on the node beyond its GPU time. A job counts as a miss when its start delay exceeds the connection&apos;s fastest start by more than {margin}, half a model download. One lookup per job.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="272"/>
        <source>Inferred from start delays, the time a job spent on the node beyond its GPU time. A job counts as a miss when its start delay exceeds its connection&apos;s fastest start by more than half a model download there. One lookup per job.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="279"/>
        <source>No job in this view has the times needed to tell. Cache hits are inferred only from jobs whose service reports their GPU time.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="286"/>
        <source>Counted by the queue since Cmfy Desk started.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="288"/>
        <source>Counted by the sandbox since it started.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="291"/>
        <source>Submissions put back in the queue after a 429 (running-job or queue limit). Waits after a rate_limit_exceeded response are not recorded.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="298"/>
        <source>No warnings: queue time, cache hits and 429 responses are within range.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="307"/>
        <source>Jobs wait long to start: the 95th percentile of queue time is {p95}, above {threshold}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="314"/>
        <source>Spread load or lower concurrency (Settings → Queue → most jobs at once).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="322"/>
        <source>{share} of requests</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="325"/>
        <source>{count} per minute</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="327"/>
        <source>The service answered {count} requests with 429 ({rate}).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="339"/>
        <source>Only {rate} of model lookups hit the node cache (inferred from start delays), below {threshold}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="343"/>
        <source>Only {rate} of model lookups hit the node cache, below {threshold}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="345"/>
        <source>Use one canonical URL per model: the node cache matches the exact URL, so two spellings of one file are two downloads.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="351"/>
        <source>Lower your request rate: lower the jobs at once, or stop other programs that use the same API key.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="359"/>
        <source>Webhooks in use rather than polling</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="360"/>
        <source>Model URLs canonical across queued work</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="361"/>
        <source>Concurrency limits respected</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="362"/>
        <source>Retries carry idempotency keys</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="363"/>
        <source>429 responses answered with backoff</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="364"/>
        <source>Pooled connections</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="365"/>
        <source>Metrics being recorded</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="366"/>
        <source>Workflows free of unused nodes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="374"/>
        <source>Use one canonical URL per model: pick it in the model library, then queue again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="384"/>
        <source>Lower the jobs at once in Settings → Queue.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="385"/>
        <source>Report this with the log file (Help → Open log folder).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="388"/>
        <source>A ComfyUI server reports status over its websocket, without polling.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="393"/>
        <source>This connection polls for job status, which adds delay and spends requests.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="396"/>
        <source>Run a tunnel (cloudflared, ngrok…) to the webhook receiver and enter its public address in Settings.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="401"/>
        <source>Webhooks are set up, and no job has finished since.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="404"/>
        <source>No finished jobs to judge by yet.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="407"/>
        <source>Webhooks are set up, but none of the {finished} finished jobs received one, so their status came from polling.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="410"/>
        <source>Check in Settings that the tunnel forwards to the webhook receiver.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="414"/>
        <source>Finished jobs that reported their result by webhook: {with_webhook} of {finished}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="420"/>
        <source>No model URLs in these jobs.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="424"/>
        <source>Model URLs checked: {urls}, all canonical, one per model.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="428"/>
        <source>Most jobs running at once: {peak}, above the limit of {limit}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="433"/>
        <source>Submissions the service rejected: {rejected} over its running-job limit and {queue_full} over its queue limit.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="439"/>
        <source>Most jobs running at once: {peak}. The limit of this view is not known.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="443"/>
        <source>Most jobs running at once: {peak}, within the limit of {limit}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="448"/>
        <source>Jobs without an idempotency key: {missing}. A retry of such a job could create a second one.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="452"/>
        <source>Queue those jobs again: new jobs get a key before their first submission.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="456"/>
        <source>Jobs the sandbox ran more than once: {duplicates}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="461"/>
        <source>Every job stores its key before the first submission and reuses it on each retry. Jobs submitted more than once: {retried}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="468"/>
        <source>Jobs submitted again less than {seconds} s after a 429: {without_backoff}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="471"/>
        <source>Lower the jobs at once in Settings → Queue, and report this with the log file.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="474"/>
        <source>No 429 responses.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="477"/>
        <source>429 responses: {total}, each answered by waiting. Avoidable, because earlier response headers had announced the limit: {avoidable}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="483"/>
        <source>429 responses: {total}, each answered by waiting before the next try.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="488"/>
        <source>Requests reuse open connections: each connection keeps one pooled HTTP client.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="493"/>
        <source>Requests open a new connection each time.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="497"/>
        <source>Not known over every connection at once. Choose one connection.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="502"/>
        <source>Finished jobs with every time the figures need: {complete} of {finished}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="508"/>
        <source>Finished jobs with every time the figures need: only {complete} of {finished}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="511"/>
        <source>Jobs that finished while Cmfy Desk was closed lack some times; the service&apos;s times fill in where it reports them.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="515"/>
        <source>No finished jobs yet.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="518"/>
        <source>Graphs with nodes that lead to no output: {with_unused} of {checked} ({unused_nodes} nodes in all, in {workflows}).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="522"/>
        <source>Remove them with “Remove unused nodes” in the batch dialog&apos;s pre-flight check.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="526"/>
        <source>Graphs checked: {checked}, none with unused nodes.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="529"/>
        <source>No jobs to check.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="535"/>
        <source>Model URLs checked: {urls}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="538"/>
        <source>Not in canonical form: {count}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="542"/>
        <source>Naming a file that another URL also names: {count}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="548"/>
        <source>Different from the model library: {count}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/metrics/wording.py" line="555"/>
        <source>For example:</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ModelEntryDialog</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/model_library_dialog.py" line="198"/>
        <source>the file name, e.g. flux1-dev.safetensors</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/model_library_dialog.py" line="200"/>
        <source>https://huggingface.co/…/resolve/&lt;commit&gt;/file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/model_library_dialog.py" line="202"/>
        <source>e.g. checkpoints, loras, vae</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/model_library_dialog.py" line="208"/>
        <source>Name:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/model_library_dialog.py" line="209"/>
        <source>Download URL:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/model_library_dialog.py" line="210"/>
        <source>Folder:</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ModelLibraryDialog</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/model_library_dialog.py" line="238"/>
        <source>Model library</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/model_library_dialog.py" line="250"/>
        <source>cmfy.cloud names models by download URL and caches them by the exact URL. A workflow that names a local file gets the URL listed here.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/model_library_dialog.py" line="256"/>
        <source>Filter by name, file, URL or folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/model_library_dialog.py" line="284"/>
        <source>Add…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/model_library_dialog.py" line="286"/>
        <source>Edit…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/model_library_dialog.py" line="288"/>
        <location filename="../../gui/cmfy_desk/ui/model_library_dialog.py" line="358"/>
        <source>Remove</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/model_library_dialog.py" line="335"/>
        <source>Add a model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/model_library_dialog.py" line="340"/>
        <source>Edit a model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/model_library_dialog.py" line="348"/>
        <source>Remove models</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/model_library_dialog.py" line="350"/>
        <source>Remove {name} from the library?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/model_library_dialog.py" line="353"/>
        <source>Remove {count} models from the library?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/model_library_dialog.py" line="356"/>
        <source>Workflows that name these files will need another URL to run on cmfy.cloud.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/model_library_dialog.py" line="419"/>
        <source>Only conflicts ({count})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/model_library_dialog.py" line="422"/>
        <source>File names listed under more than one URL, highlighted in the table</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/model_library_dialog.py" line="425"/>
        <source>{count} models · {conflicts} file names with several URLs</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ModelLibraryModel</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/model_library_dialog.py" line="103"/>
        <source>Name</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/model_library_dialog.py" line="104"/>
        <source>File name</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/model_library_dialog.py" line="105"/>
        <source>URL</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/model_library_dialog.py" line="106"/>
        <source>Folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/model_library_dialog.py" line="107"/>
        <source>Source</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/model_library_dialog.py" line="122"/>
        <source>yours</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/model_library_dialog.py" line="122"/>
        <source>templates</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/model_library_dialog.py" line="147"/>
        <source>{file} is listed under {count} URLs, and each URL is a separate cache entry on the GPU nodes. Workflows use: {chosen}</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>NoticePanel</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/notices.py" line="87"/>
        <source>Clear</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/notices.py" line="138"/>
        <source>Notices: {count}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/notices.py" line="140"/>
        <source>No notices</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>NotificationSettingsGroup</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/notifications.py" line="318"/>
        <source>Notifications</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/notifications.py" line="322"/>
        <source>Batch done:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/notifications.py" line="323"/>
        <source>Batch failed:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/notifications.py" line="324"/>
        <source>Connection problem:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/notifications.py" line="327"/>
        <source>None</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/notifications.py" line="328"/>
        <source>In the window</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/notifications.py" line="329"/>
        <source>Desktop notification</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/notifications.py" line="338"/>
        <source>Beep with each notification</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ParameterForm</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/parameter_form.py" line="78"/>
        <source>Prompts</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/parameter_form.py" line="79"/>
        <source>Sampling</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/parameter_form.py" line="80"/>
        <source>Size</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/parameter_form.py" line="81"/>
        <source>Models</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/parameter_form.py" line="82"/>
        <source>Other</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/parameter_form.py" line="90"/>
        <source>Positive prompt</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/parameter_form.py" line="93"/>
        <source>Negative prompt</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/parameter_form.py" line="96"/>
        <source>Seed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/parameter_form.py" line="97"/>
        <source>Steps</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/parameter_form.py" line="98"/>
        <source>CFG</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/parameter_form.py" line="99"/>
        <source>Sampler</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/parameter_form.py" line="100"/>
        <source>Scheduler</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/parameter_form.py" line="101"/>
        <source>Denoise</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/parameter_form.py" line="102"/>
        <source>Width</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/parameter_form.py" line="103"/>
        <source>Height</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/parameter_form.py" line="104"/>
        <source>Batch size</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/parameter_form.py" line="112"/>
        <source>node {node} {class_type}.{input}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/parameter_form.py" line="209"/>
        <location filename="../../gui/cmfy_desk/ui/parameter_form.py" line="261"/>
        <source>From {minimum} to {maximum}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/parameter_form.py" line="221"/>
        <source>{minimum} to {maximum}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/parameter_form.py" line="233"/>
        <source>{name}: &apos;{text}&apos; is not a whole number.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/parameter_form.py" line="239"/>
        <source>{name} must be between {minimum} and {maximum}, got {value}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/parameter_form.py" line="344"/>
        <source>NODE.INPUT, e.g. KSampler.denoise</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/parameter_form.py" line="347"/>
        <source>Any literal input of the workflow, by node id or title and input name</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/parameter_form.py" line="358"/>
        <source>Add input</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/parameter_form.py" line="361"/>
        <source>Reset values</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/parameter_form.py" line="363"/>
        <source>Show the workflow&apos;s own values again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/parameter_form.py" line="490"/>
        <source>{name} (node {node})</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>PreflightPanel</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/preflight_panel.py" line="93"/>
        <source>Pre-flight check</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/preflight_panel.py" line="111"/>
        <source>Remove unused nodes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/preflight_panel.py" line="113"/>
        <source>Remove the nodes that lead to no output from this workflow</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/preflight_panel.py" line="116"/>
        <source>Use canonical URLs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/preflight_panel.py" line="119"/>
        <source>Write the model library&apos;s URL into every model input the check names. The change applies to every job of this workflow&apos;s batch.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/preflight_panel.py" line="124"/>
        <source>Model library…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/preflight_panel.py" line="126"/>
        <source>Add the download URL of each model file the check names</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/preflight_panel.py" line="129"/>
        <source>applies to the whole batch</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/preflight_panel.py" line="157"/>
        <source>No workflow selected.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/preflight_panel.py" line="164"/>
        <source>{nodes} nodes · relative cost {cost:.1f}× per job</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/preflight_panel.py" line="168"/>
        <source>no problems found</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/preflight_panel.py" line="172"/>
        <source>1 error</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/preflight_panel.py" line="174"/>
        <source>{count} errors</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/preflight_panel.py" line="179"/>
        <source>Relative cost: estimated GPU time per job, where 1 is one 512×512 image in 20 steps</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>QueueActions</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="86"/>
        <source>Move to top</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="88"/>
        <source>Send the selected queued jobs before all others</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="90"/>
        <source>Ctrl+Home</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="92"/>
        <source>Move to bottom</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="94"/>
        <source>Send the selected queued jobs after all others</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="96"/>
        <source>Ctrl+End</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="98"/>
        <source>Priority</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="99"/>
        <source>Batch priority</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="101"/>
        <source>High (10)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="102"/>
        <source>Normal (0)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="103"/>
        <source>Low (-10)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="114"/>
        <source>Queued jobs of higher priority are sent first</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="117"/>
        <source>Give every job of the selected jobs&apos; batches this priority</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="121"/>
        <source>Pause batch</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="123"/>
        <source>Hold the queued jobs of the selected jobs&apos; batches; running jobs continue</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="127"/>
        <source>Retry failed jobs of batch…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="129"/>
        <source>Show the batch&apos;s failures by cause and queue them again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="132"/>
        <source>Cancel queued jobs of batch…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="134"/>
        <source>Cancel the jobs of the selected jobs&apos; batches that are still queued</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="137"/>
        <source>Cancel all queued jobs…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="139"/>
        <source>Cancel every job that is still queued; running jobs continue</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="141"/>
        <source>Batch</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="196"/>
        <source>{what} failed: {error}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="219"/>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="242"/>
        <source>Moving jobs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="267"/>
        <source>Setting the priority</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="275"/>
        <source>Setting the batch priority</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="288"/>
        <source>Pausing the batch</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="291"/>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="422"/>
        <source>Resuming the batch</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="314"/>
        <source>Cancel queued jobs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="318"/>
        <source>No jobs are queued there.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="325"/>
        <source>Running jobs continue. Cancelled jobs stay in the table, and Retry selected queues them again, so there is no undo.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="330"/>
        <source>Cancel {count}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="333"/>
        <source>Keep them</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="345"/>
        <source>Cancel the 1 queued job?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="346"/>
        <source>Cancel all {count} queued jobs?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="349"/>
        <source>Cancel the queued jobs of batch {name} ({count})?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="352"/>
        <source>Cancel the queued jobs of {batches} batches ({count})?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="363"/>
        <source>Cancelling jobs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="416"/>
        <source>Retrying jobs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="452"/>
        <source>1 job left</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="452"/>
        <source>{count} jobs left</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="456"/>
        <source>batch paused</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="458"/>
        <source>queue paused</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="460"/>
        <source>no estimate yet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="463"/>
        <source>done ≈ {time}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_actions.py" line="468"/>
        <source>Batch {name}. The estimate assumes that its jobs take as long as the last finished jobs on this connection, and use every running slot.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>QueueArea</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_area.py" line="37"/>
        <source>The queue is empty</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_area.py" line="44"/>
        <source>Drop ComfyUI workflows here: .json files in API or editor format, pictures saved by ComfyUI, or folders of them. Or use File → Add workflows…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_area.py" line="57"/>
        <source>Run the sample workflows</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_area.py" line="63"/>
        <source>Demo mode: jobs run on the built-in sandbox, which renders test images on this computer. No account is needed.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>QueueTransfer</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_transfer.py" line="53"/>
        <source>Export queue…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_transfer.py" line="55"/>
        <source>Save the queued jobs to a file, to import them here or elsewhere</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_transfer.py" line="58"/>
        <source>Import queue…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_transfer.py" line="60"/>
        <source>Queue the jobs of an exported queue file as new batches</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_transfer.py" line="72"/>
        <location filename="../../gui/cmfy_desk/ui/queue_transfer.py" line="90"/>
        <source>Export queue</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_transfer.py" line="75"/>
        <location filename="../../gui/cmfy_desk/ui/queue_transfer.py" line="138"/>
        <source>Queue files (*.json)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_transfer.py" line="75"/>
        <location filename="../../gui/cmfy_desk/ui/queue_transfer.py" line="138"/>
        <source>All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_transfer.py" line="93"/>
        <source>{name} already exists. Replace it?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_transfer.py" line="94"/>
        <source>Replace</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_transfer.py" line="118"/>
        <source>Exporting the queue to {name} failed: {error}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_transfer.py" line="125"/>
        <source>Exported 1 queued job to {name}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_transfer.py" line="127"/>
        <source>Exported {count} queued jobs to {name}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_transfer.py" line="136"/>
        <source>Import queue</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_transfer.py" line="162"/>
        <source>{name}: importing failed: {error}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_transfer.py" line="171"/>
        <source>Imported {jobs} in {batches} from {name}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_transfer.py" line="174"/>
        <source>1 batch</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/queue_transfer.py" line="176"/>
        <source>{count} batches</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>QuitQuestion</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/quit_guard.py" line="105"/>
        <source>Quit Cmfy Desk</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/quit_guard.py" line="110"/>
        <source>1 job is still running. Quit anyway?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/quit_guard.py" line="114"/>
        <source>{count} jobs are still running. Quit anyway?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/quit_guard.py" line="122"/>
        <source>They run on the built-in sandbox, which stops when Cmfy Desk quits, so they are lost. Retry runs them again after the next start.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/quit_guard.py" line="130"/>
        <source>Jobs sent to cmfy.cloud keep running there, and their images are downloaded on the next start.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/quit_guard.py" line="138"/>
        <source>1 queued job stays in the queue and continues on the next start.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/quit_guard.py" line="144"/>
        <source>{count} queued jobs stay in the queue and continue on the next start.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/quit_guard.py" line="151"/>
        <source>Keep running in the tray to let the queue finish with the window hidden. The tray icon shows the window again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/quit_guard.py" line="160"/>
        <source>Quit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/quit_guard.py" line="164"/>
        <source>Keep running in the tray</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/quit_guard.py" line="172"/>
        <source>Cancel</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Rerun</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/rerun.py" line="31"/>
        <source>Run again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/rerun.py" line="32"/>
        <source>Vary seed…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/rerun.py" line="33"/>
        <source>Edit and run…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/rerun.py" line="56"/>
        <source>Vary seed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/rerun.py" line="58"/>
        <source>Jobs to make, each with a new random seed:</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>SearchHelpDialog</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_search.py" line="419"/>
        <source>Searching images</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_search.py" line="425"/>
        <source>Words are looked for in prompts, model names and tags, and every word must match. Put a phrase in quotes (&quot;red fox&quot;). A minus sign leaves out what matches: -snow, -tag:draft.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>SearchLine</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_search.py" line="322"/>
        <source>Search prompts, models and tags, e.g. red fox seed:1234 rating:&gt;=4</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_search.py" line="326"/>
        <source>Clear the search</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_search.py" line="333"/>
        <source>?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/gallery_search.py" line="334"/>
        <source>Search fields and examples</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="97"/>
        <source>Settings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="109"/>
        <source>Sandbox (built-in)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="110"/>
        <source>cmfy.cloud</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="121"/>
        <source>stored; type a new key to replace it</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="123"/>
        <source>sk_live_… from the cmfy.cloud portal</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="128"/>
        <source>Browse…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="139"/>
        <source>Tokens: {tokens}. A / in the folder name makes subfolders. An empty name uses the default.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="166"/>
        <source>How many times faster than real time the sandbox runs jobs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="182"/>
        <source>Connection:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="183"/>
        <source>Base URL:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="184"/>
        <source>API key:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="185"/>
        <source>Output folder:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="186"/>
        <source>Batch folder name:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="187"/>
        <source>Output file name:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="190"/>
        <source>Sandbox plan:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="191"/>
        <source>Sandbox speed:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="250"/>
        <source>Example: (fix the name template)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="257"/>
        <source>Example: {path}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="262"/>
        <source>Webhooks when a tunnel is set, else polling</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="263"/>
        <source>Webhooks through my tunnel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="264"/>
        <source>Polling</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="269"/>
        <source>https://your-tunnel.example</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="272"/>
        <source>Any free port</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="274"/>
        <source>Test</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="276"/>
        <source>Send a request through the public address and time its arrival here</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="294"/>
        <source>Job status:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="295"/>
        <source>Public base URL:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="296"/>
        <source>Receiver port:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="298"/>
        <source>Job status (cmfy.cloud)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="304"/>
        <source>cmfy.cloud reports finished jobs only to a public HTTPS address, which a desktop does not have. Run a tunnel (cloudflared, ngrok, Tailscale Funnel) that forwards to http://127.0.0.1:{port} and enter its public address here; without one, Cmfy Desk polls.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="308"/>
        <source>PORT</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="313"/>
        <source>Enter the public base URL of your tunnel first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="316"/>
        <source>Sending a request through {url}…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="317"/>
        <source>Testing the tunnel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="330"/>
        <source>No cap</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="334"/>
        <source>Most jobs to run at once, below the plan&apos;s limit. 0 means no cap: as many as the plan allows.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="338"/>
        <source>Start with the queue paused</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="342"/>
        <source>Never</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="343"/>
        <source> failures in a row</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="346"/>
        <source>Pause a batch after this many of its jobs failed in a row; 0 never pauses</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="348"/>
        <source>Send jobs that use the same models together</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="352"/>
        <source>Jobs that load the same model files go one after another, so that they run on nodes that already hold those models.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="358"/>
        <source>Queue settings apply when the queue restarts, which happens on OK unless jobs are running on the built-in sandbox; then they apply at the next start.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="366"/>
        <source>Max running jobs:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="367"/>
        <source>Pause a batch after:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="371"/>
        <source>Queue</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="379"/>
        <source>Forever</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="380"/>
        <source> days</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="384"/>
        <source>Finished batches older than this are removed from the history at start, with their jobs. Batches with unfinished jobs always stay.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="388"/>
        <source>Prune now…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="390"/>
        <source>Remove the finished batches older than the days set, after a confirmation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="403"/>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="450"/>
        <source>Images stay on disk and in the gallery.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="407"/>
        <source>Keep batches for:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="410"/>
        <source>History</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="433"/>
        <source>Reading the history failed: {error}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="438"/>
        <source>No finished batch is older than {days} days.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="443"/>
        <source>Prune the history</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="446"/>
        <source>Remove {batches} finished batches with {jobs} jobs, created more than {days} days ago, from the history?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="451"/>
        <source>Remove</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="460"/>
        <source>Pruning the history…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="461"/>
        <source>Pruning the history</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="473"/>
        <source>Pruning the history failed: {error}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="496"/>
        <source>The public base URL must start with https://, the address your tunnel gives.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="500"/>
        <source>Webhooks need the public base URL of your tunnel. Enter it, or choose polling.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="508"/>
        <source>The base URL must start with https:// (or http:// for a server on this computer).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="516"/>
        <source>Enter the API key shown in the cmfy.cloud portal.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="545"/>
        <source>Saving the settings to {path} failed: {error}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="555"/>
        <source>Output folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/dialogs.py" line="572"/>
        <source>Removed {batches} batches with {jobs} jobs from the history.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Shortcuts</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/about_dialog.py" line="56"/>
        <source>Ctrl+Shift+O</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/about_dialog.py" line="57"/>
        <source>Ctrl+P</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/about_dialog.py" line="58"/>
        <source>Ctrl+E</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/about_dialog.py" line="59"/>
        <source>Ctrl+Shift+M</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ShortcutsDialog</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/about_dialog.py" line="238"/>
        <source>Keyboard shortcuts</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/about_dialog.py" line="241"/>
        <source>Action</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/about_dialog.py" line="241"/>
        <source>Shortcut</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/about_dialog.py" line="247"/>
        <source>Other</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/about_dialog.py" line="265"/>
        <source>Close</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>TagDialog</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/tag_dialog.py" line="41"/>
        <source>Tags of {images}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/tag_dialog.py" line="55"/>
        <source>New tag</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/tag_dialog.py" line="61"/>
        <source>Add</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/tag_dialog.py" line="75"/>
        <source>Checked tags are set on every selected image, unchecked ones on none.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/tag_dialog.py" line="94"/>
        <source>{tag} ({count} of {total})</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ThumbnailLoader</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/thumbnail_loader.py" line="111"/>
        <source>The thumbnail process stopped while reading {name}; the file may be damaged.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Tray</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/tray.py" line="58"/>
        <source>Show window</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/tray.py" line="60"/>
        <source>Quit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/tray.py" line="90"/>
        <source>Cmfy Desk</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/tray.py" line="93"/>
        <source>{done} of {total} jobs done</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/tray.py" line="95"/>
        <source>No jobs waiting</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/tray.py" line="97"/>
        <source>Queue paused</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/tray.py" line="108"/>
        <source>Cmfy Desk is still running</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/tray.py" line="109"/>
        <source>The queue continues. Click the tray icon to show the window.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ViewActions</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_canvas.py" line="612"/>
        <source>Zoom in</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_canvas.py" line="621"/>
        <source>Zoom out</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_canvas.py" line="626"/>
        <source>Fit to window</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_canvas.py" line="626"/>
        <source>Ctrl+0</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_canvas.py" line="629"/>
        <source>Actual size (100 %)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_canvas.py" line="635"/>
        <source>Full screen</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_canvas.py" line="642"/>
        <source>Leave full screen or close</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/image_canvas.py" line="646"/>
        <source>Close</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>WorkflowActions</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/workflow_actions.py" line="81"/>
        <source>Loading workflows</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/workflow_actions.py" line="126"/>
        <source>Nothing was queued: not connected. Check the connection in Settings.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/workflow_actions.py" line="134"/>
        <source>Nothing was queued: the connection changed while the batch dialog was open. Add the workflows again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/workflow_actions.py" line="148"/>
        <source>{name}: queueing failed: {error}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/workflow_actions.py" line="172"/>
        <location filename="../../gui/cmfy_desk/ui/workflow_actions.py" line="218"/>
        <source>Cannot run it again: not connected. Check the connection in Settings.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/workflow_actions.py" line="180"/>
        <source>{name}: its job is no longer in the database ({error}).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/workflow_actions.py" line="204"/>
        <source>{name}: running it again failed: {error}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/workflow_actions.py" line="226"/>
        <location filename="../../gui/cmfy_desk/ui/workflow_actions.py" line="257"/>
        <source>Running batch &apos;{name}&apos; again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/workflow_actions.py" line="235"/>
        <source>Queue a large batch?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/workflow_actions.py" line="237"/>
        <source>Queue {count} jobs of batch &apos;{name}&apos; again?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/workflow_actions.py" line="242"/>
        <source>This is more than {limit} jobs, and each job costs GPU time.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/workflow_actions.py" line="246"/>
        <source>Queue</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/workflow_actions.py" line="279"/>
        <source>Nothing was queued: the connection changed while batch &apos;{name}&apos; was read. Run it again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/workflow_actions.py" line="308"/>
        <source>Batch &apos;{name}&apos;: running it again failed: {error}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/workflow_actions.py" line="317"/>
        <source>Queued {count} jobs of batch &apos;{name}&apos; again as batch &apos;{new}&apos;.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/workflow_actions.py" line="329"/>
        <source>Batch &apos;{name}&apos; ran on the connection {connection}, which is no longer set up. Nothing was queued. Use Edit and run… to choose a connection.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/workflow_actions.py" line="338"/>
        <source>Batch &apos;{name}&apos; cannot be run again: {details} Nothing was queued. Use Edit and run… to change the workflow.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/workflow_actions.py" line="357"/>
        <source>The model library is in the database, which opens with the connection. Check the connection in Settings.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>_NoticeRow</name>
    <message>
        <location filename="../../gui/cmfy_desk/ui/notices.py" line="57"/>
        <source>Copy</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../gui/cmfy_desk/ui/notices.py" line="58"/>
        <source>Copy this message to the clipboard</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
