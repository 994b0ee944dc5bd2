// soredi-nb: a stand-in for itables' DataTables bundle, loaded by a render's kernels. The page
// export puts the shared bundle (or, for --standalone, the bundle itself) in its place.
