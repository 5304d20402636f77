// Observable Plot, loaded once on first use (it is most of the console's code).
export type PlotModule = typeof import('@observablehq/plot');

let loaded: PlotModule | null = null;
let loading: Promise<PlotModule> | null = null;

export function loadedPlot(): PlotModule | null {
  return loaded;
}

export function loadPlot(): Promise<PlotModule> {
  loading ??= import('@observablehq/plot').then((p) => (loaded = p));
  return loading;
}
