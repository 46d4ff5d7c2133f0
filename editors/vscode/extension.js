// Starts `flin lsp` for .flin files (diagnostics, hover, definition, completion, symbols).
const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration('flin').get('path') || 'flin';
  const server = { command, args: ['lsp'], transport: TransportKind.stdio };
  client = new LanguageClient('flin', 'FLIN', { run: server, debug: server }, {
    documentSelector: [{ scheme: 'file', language: 'flin' }],
  });
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
